// A multi-producer queue whose consumer is an event loop: pushing wakes the loop through an
// eventfd it has registered (libevent on a media worker, su_root on the SIP thread). This is how
// commands reach a worker and how a MediaEvents implementation hands events to its own thread:
// no side ever touches the other side's objects.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

namespace b2bua::media {

template <class T>
class WakeQueue {
 public:
  WakeQueue() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::runtime_error("eventfd failed");
  }
  ~WakeQueue() { ::close(fd_); }
  WakeQueue(const WakeQueue&) = delete;
  WakeQueue& operator=(const WakeQueue&) = delete;

  // Any thread. Only the push that makes the queue non-empty writes the eventfd: later pushes
  // ride on the wake-up already pending.
  template <class... Args>
  void push(Args&&... args) {
    bool was_empty = false;
    {
      std::lock_guard lock(mutex_);
      was_empty = items_.empty();
      items_.emplace_back(std::forward<Args>(args)...);
    }
    if (was_empty) {
      const uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
    }
  }

  // Consumer thread, when fd() is readable. Clearing the eventfd before taking the items means
  // a push racing with us either lands in this batch or writes the eventfd again.
  template <class F>
  void drain(F&& handle) {
    uint64_t count = 0;
    [[maybe_unused]] auto n = ::read(fd_, &count, sizeof count);
    std::vector<T> batch;
    {
      std::lock_guard lock(mutex_);
      batch.swap(items_);
    }
    for (auto& item : batch) handle(item);
  }

  int fd() const { return fd_; }

 private:
  int fd_;
  std::mutex mutex_;
  std::vector<T> items_;
};

}  // namespace b2bua::media
