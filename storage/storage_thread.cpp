#include "storage/storage_thread.h"

#include "b2bua/common/log.h"

#include <cstdio>
#include <iterator>

namespace b2bua::storage {
namespace {

// Beyond this many queued tasks writers wait: on a disk that stopped answering, memory must not
// grow without bound. A router's SIP load never comes near it (a REGISTER burst after a reboot
// is a few hundred writes).
constexpr size_t kMaxQueued = 100000;
// One transaction stays small enough that its WAL frames and the page cache fit a router.
constexpr size_t kMaxBatch = 4096;
// The least time between two commits of writes nobody waits for: at most 20 fsyncs a second,
// and a write is on disk at most this much later than it would be with a commit of its own.
constexpr auto kCommitGap = std::chrono::milliseconds(50);

std::string message_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace

StorageThread::StorageThread(Connection& connection)
    : connection_(connection),
      // IMMEDIATE: take the write lock at BEGIN, where busy_timeout applies, instead of failing
      // mid-batch when a read lock cannot be upgraded.
      begin_(connection, "BEGIN IMMEDIATE"),
      commit_(connection, "COMMIT"),
      thread_([this] { loop(); }) {}

StorageThread::~StorageThread() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_one();
  thread_.join();
}

void StorageThread::write(std::function<void()> work) { enqueue(Task{std::move(work), nullptr, {}}); }

void StorageThread::run_and_wait(std::function<void()> work) {
  std::promise<void> done;
  std::future<void> finished = done.get_future();
  enqueue(Task{std::move(work), &done, {}});
  finished.get();
}

void StorageThread::flush() {
  run_and_wait([] {});
  std::lock_guard lock(mutex_);
  if (failures_ == 0) return;
  std::string message = first_failure_ + " (" + std::to_string(failures_) + " failed write(s) since the last flush)";
  first_failure_.clear();
  failures_ = 0;
  throw StorageError(message);
}

void StorageThread::enqueue(Task task) {
  std::unique_lock lock(mutex_);
  space_free_.wait(lock, [this] { return queue_.size() < kMaxQueued; });
  const bool blocks = task.done != nullptr;
  waiting_ += blocks;
  queue_.push_back(std::move(task));
  // Waking a thread costs a futex syscall; while it is busy committing it will find the task
  // anyway, which keeps the caller's cost to a lock and a push. A caller that blocks ends the
  // wait for more writes.
  const bool wake = idle_ || (gathering_ && blocks);
  lock.unlock();
  if (wake) work_ready_.notify_one();
}

void StorageThread::loop() {
  std::deque<Task> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      idle_ = true;
      work_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      idle_ = false;
      if (queue_.empty()) return;  // stopping, and everything is committed
      if (!stopping_ && waiting_ == 0) {
        gathering_ = true;
        work_ready_.wait_until(lock, last_commit_ + kCommitGap, [this] { return stopping_ || waiting_ > 0; });
        gathering_ = false;
      }
      // Swapping keeps the lock for O(1), so a writer on the SIP thread never waits behind us.
      if (queue_.size() <= kMaxBatch) {
        batch.swap(queue_);
        waiting_ = 0;
      } else {
        auto end = queue_.begin() + static_cast<std::ptrdiff_t>(kMaxBatch);
        batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
        queue_.erase(queue_.begin(), end);
        for (const Task& t : batch) waiting_ -= t.done != nullptr;
      }
    }
    space_free_.notify_all();
    commit(batch);
    last_commit_ = std::chrono::steady_clock::now();
    batch.clear();
  }
}

void StorageThread::commit(std::deque<Task>& batch) {
  std::exception_ptr batch_error;
  try {
    begin_.run();
    for (Task& task : batch) {
      try {
        task.work();
      } catch (...) {
        task.error = std::current_exception();
        if (task.done == nullptr) note_write_failure(task.error);
      }
      // Disk full, I/O error and out-of-memory make SQLite roll the whole transaction back;
      // what ran before in this batch is gone, so the batch as a whole failed.
      if (!connection_.in_transaction()) {
        throw StorageError("storage: " + connection_.path() +
                           ": transaction rolled back by SQLite after an error: " + message_of(task.error));
      }
    }
    commit_.run();
  } catch (...) {
    batch_error = std::current_exception();
    if (connection_.in_transaction()) {
      try {
        connection_.exec("ROLLBACK");
      } catch (...) {
        // Already reported through batch_error; nothing more to undo.
      }
    }
    note_write_failure(batch_error);
  }
  for (Task& task : batch) {
    if (task.done == nullptr) continue;
    std::exception_ptr error = task.error ? task.error : batch_error;
    if (error) {
      task.done->set_exception(error);
    } else {
      task.done->set_value();
    }
  }
}

void StorageThread::note_write_failure(const std::exception_ptr& error) {
  const std::string message = message_of(error);
  B2BUA_LOG(error, "storage", "write_failed", {{"error", message}});
  std::lock_guard lock(mutex_);
  if (failures_++ == 0) first_failure_ = message;
}

}  // namespace b2bua::storage
