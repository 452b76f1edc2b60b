// The storage thread: the one thread that touches the SQLite connection once the store is open.
//
// Why a thread at all: a commit with synchronous=FULL waits for fsync, which on a router's flash
// can take tens of milliseconds (hundreds under wear levelling). The SIP thread must never wait
// on that, or every transaction timer in flight slips. So writers only append to a queue; this
// thread takes everything waiting, runs it in ONE transaction and commits once (group commit):
// under a burst, thousands of writes share one fsync. tests/bench/storage measures both ways.
// Under a steady load (calls ending every few milliseconds) each write would still get a commit
// of its own, so a commit follows the previous one by at least kCommitGap unless someone waits
// for it (a read or a flush): fsyncs stay bounded at 20 per second whatever the rate.
//
// Ordering: one FIFO queue for writes, reads and flushes, so a read or flush runs after every
// write queued before it, from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>

#include "storage/sqlite_handle.h"

namespace b2bua::storage {

class StorageThread {
 public:
  explicit StorageThread(Connection& connection);
  // Commits everything still queued, then joins.
  ~StorageThread();
  StorageThread(const StorageThread&) = delete;
  StorageThread& operator=(const StorageThread&) = delete;

  // Queues `work`; returns at once. A failure is reported by the next flush().
  void write(std::function<void()> work);

  // Runs `work` after every earlier queued task and returns its result once the transaction
  // holding it has committed; its exception, or the commit's, is rethrown here.
  template <class Work>
  std::invoke_result_t<Work&> read(Work work) {
    using Result = std::invoke_result_t<Work&>;
    std::optional<Result> result;
    run_and_wait([&] { result.emplace(work()); });
    return std::move(*result);
  }

  // Blocks until every task queued before it is committed. Throws StorageError if a queued write
  // failed since the previous flush (the first failure's message, and how many).
  void flush();

 private:
  struct Task {
    std::function<void()> work;
    std::promise<void>* done = nullptr;  // set for callers blocked in run_and_wait()
    std::exception_ptr error;
  };

  void run_and_wait(std::function<void()> work);
  void enqueue(Task task);
  void loop();
  void commit(std::deque<Task>& batch);
  void note_write_failure(const std::exception_ptr& error);

  Connection& connection_;
  Statement begin_;
  Statement commit_;

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable space_free_;
  std::deque<Task> queue_;        // guarded by mutex_
  bool idle_ = false;             // guarded by mutex_: the thread waits on work_ready_
  bool gathering_ = false;        // guarded by mutex_: waiting out kCommitGap for more writes
  size_t waiting_ = 0;            // guarded by mutex_: queued tasks whose caller blocks
  std::chrono::steady_clock::time_point last_commit_{};  // the thread's own
  bool stopping_ = false;         // guarded by mutex_
  std::string first_failure_;     // guarded by mutex_
  size_t failures_ = 0;           // guarded by mutex_

  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace b2bua::storage
