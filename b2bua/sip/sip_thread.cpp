#include "b2bua/sip/sip_thread.h"

#include <memory>

#include "b2bua/common/log.h"

namespace b2bua::sip {
namespace {

using Closure = std::function<void()>;

// su_msg payload: a pointer to a heap closure. Ownership passes to whichever runs first: the
// delivery handler, or the deinitializer when the message is dropped at shutdown.
struct Posted {
  Closure* fn;
};

void deliver(su_root_magic_t*, su_msg_r msg, su_msg_arg_t* arg) {
  (void)msg;
  auto* p = static_cast<Posted*>(static_cast<void*>(arg));
  std::unique_ptr<Closure> fn(p->fn);
  p->fn = nullptr;
  if (fn && *fn) (*fn)();
}

void drop(su_msg_arg_t* arg) {
  auto* p = static_cast<Posted*>(static_cast<void*>(arg));
  std::unique_ptr<Closure> fn(p->fn);
  p->fn = nullptr;
}

}  // namespace

SipThread::~SipThread() {
  if (thread_.joinable()) {
    post([this] { stop_loop(); });
    thread_.join();
  }
}

void SipThread::start(std::function<void(su_root_t*)> on_start, std::function<void()> on_stop) {
  std::promise<void> started;
  auto ready = started.get_future();
  thread_ = std::thread(&SipThread::main, this, std::move(on_start), std::move(on_stop), std::move(started));
  try {
    ready.get();
  } catch (...) {
    thread_.join();
    throw;
  }
}

void SipThread::main(std::function<void(su_root_t*)> on_start, std::function<void()> on_stop,
                     std::promise<void> started) {
  su_init();
  su_root_t* root = su_root_create(nullptr);
  if (!root) {
    su_deinit();
    started.set_exception(std::make_exception_ptr(std::runtime_error("cannot create the SIP reactor")));
    return;
  }
  // Keep nua's stack on this thread too: one thread owns all SIP state, one less hop.
  su_root_threading(root, 0);
  root_.store(root);
  bool ok = true;
  try {
    on_start(root);
    started.set_value();
  } catch (...) {
    ok = false;
    started.set_exception(std::current_exception());
  }
  if (ok) su_root_run(root);
  if (on_stop) on_stop();
  root_.store(nullptr);
  su_root_destroy(root);
  su_deinit();
}

void SipThread::post(std::function<void()> fn) {
  su_root_t* root = root_.load();
  if (!root) return;
  su_msg_r msg = SU_MSG_R_INIT;
  if (su_msg_create(msg, su_root_task(root), su_task_null, deliver, sizeof(Posted)) != 0) {
    B2BUA_LOG(error, "sip", "post_failed", {});
    return;
  }
  auto* payload = static_cast<Posted*>(static_cast<void*>(su_msg_data(msg)));
  payload->fn = std::make_unique<Closure>(std::move(fn)).release();
  su_msg_deinitializer(msg, drop);
  su_msg_send(msg);
}

void SipThread::stop_loop() {
  if (su_root_t* root = root_.load()) su_root_break(root);
}

void SipThread::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace b2bua::sip
