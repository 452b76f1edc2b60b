// The signalling plane's thread: one sofia-sip su_root reactor that owns every SIP object.
//
// All SIP state (nua instances, handles, timers, registrar and trunk state) is created, used
// and destroyed on this thread, so none of it needs a lock. Other threads hand work over with
// post(); sofia 1.12 has none of the fixes freeswitch/sofia-sip 1.13 made for calling nua
// from other threads.
#pragma once

#include <atomic>
#include <functional>
#include <future>
#include <thread>

#include "b2bua/sip/sofia.h"

namespace b2bua::sip {

class SipThread {
 public:
  SipThread() = default;
  ~SipThread();  // joins; the loop must have been stopped (stop_loop) by then or is stopped here
  SipThread(const SipThread&) = delete;
  SipThread& operator=(const SipThread&) = delete;

  // Starts the thread and runs `on_start(root)` on it; returns once on_start has returned, and
  // rethrows what it threw. `on_stop` runs on the thread after the loop ends, to destroy
  // everything made in on_start while the root still exists.
  void start(std::function<void(su_root_t*)> on_start, std::function<void()> on_stop);

  // Any thread: runs `fn` on the SIP thread, in posting order. Dropped once the loop has ended.
  void post(std::function<void()> fn);

  // SIP thread only: ends su_root_run() after the current callback.
  void stop_loop();

  // Any thread: blocks until the thread has finished on_stop and exited.
  void join();

  bool on_this_thread() const { return std::this_thread::get_id() == thread_.get_id(); }
  su_root_t* root() const { return root_.load(); }

 private:
  void main(std::function<void(su_root_t*)> on_start, std::function<void()> on_stop, std::promise<void> started);

  std::thread thread_;
  std::atomic<su_root_t*> root_{nullptr};
};

}  // namespace b2bua::sip
