// A one-shot or repeating timer on the SIP thread (RAII over su_timer_t).
#pragma once

#include <functional>

#include "b2bua/sip/sofia.h"

namespace b2bua::sip {

class Timer {
 public:
  explicit Timer(su_root_t* root);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Runs `fn` once after `ms`; re-arming replaces the previous deadline and callback.
  void start(unsigned ms, std::function<void()> fn);
  // Runs `fn` every `ms` until cancelled.
  void every(unsigned ms, std::function<void()> fn);
  void cancel();
  bool armed() const { return armed_; }

 private:
  void arm(unsigned ms, std::function<void()> fn, bool repeating);
  static void fire(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg);

  su_timer_t* timer_;
  std::function<void()> fn_;
  bool repeating_ = false;
  unsigned interval_ms_ = 0;
  bool armed_ = false;
};

}  // namespace b2bua::sip
