#include "b2bua/sip/timer.h"

#include <stdexcept>

namespace b2bua::sip {

Timer::Timer(su_root_t* root) : timer_(su_timer_create(su_root_task(root), 1000)) {
  if (!timer_) throw std::runtime_error("cannot create a SIP timer");
}

Timer::~Timer() { su_timer_destroy(timer_); }

void Timer::start(unsigned ms, std::function<void()> fn) { arm(ms, std::move(fn), false); }

void Timer::every(unsigned ms, std::function<void()> fn) { arm(ms, std::move(fn), true); }

void Timer::arm(unsigned ms, std::function<void()> fn, bool repeating) {
  su_timer_reset(timer_);
  fn_ = std::move(fn);
  repeating_ = repeating;
  interval_ms_ = ms;
  armed_ = true;
  su_timer_set_interval(timer_, &Timer::fire, this, static_cast<su_duration_t>(ms));
}

void Timer::cancel() {
  su_timer_reset(timer_);
  armed_ = false;
}

void Timer::fire(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
  auto* self = static_cast<Timer*>(arg);
  // su_timer is one-shot; a repeating timer re-arms before the callback so the callback may
  // cancel it.
  if (self->repeating_) {
    su_timer_set_interval(self->timer_, &Timer::fire, self, static_cast<su_duration_t>(self->interval_ms_));
  } else {
    self->armed_ = false;
  }
  // The callback may re-arm or destroy this timer's owner: keep the function alive on the stack.
  std::function<void()> fn = self->fn_;
  if (fn) fn();
}

}  // namespace b2bua::sip
