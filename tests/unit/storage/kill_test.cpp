// kill -9 at any moment loses nothing that was committed: a writer process reports ids after
// flush(); we SIGKILL it mid-burst, then the database must open, pass integrity_check and hold
// every reported id. Repeated on the same file, so recovery from a torn WAL is exercised too.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "raw_sqlite.h"
#include "storage/store.h"
#include "storage_test_support.h"

namespace b2bua::storage {
namespace {

// The writer process, killed and reaped at scope exit whatever the test did.
class Writer {
 public:
  Writer(const std::string& db, long long first_id, long long count) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    const std::string first = std::to_string(first_id);
    const std::string how_many = std::to_string(count);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      execl(B2BUA_KILL_WRITER, B2BUA_KILL_WRITER, db.c_str(), first.c_str(), how_many.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
  }
  ~Writer() {
    kill_now();
    if (out_ >= 0) close(out_);
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Reads what the writer printed; false on EOF or when `deadline` passes.
  bool read_some(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{out_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buffer[4096];
    const ssize_t n = read(out_, buffer, sizeof buffer);
    if (n <= 0) return false;
    pending_.append(buffer, static_cast<size_t>(n));
    size_t newline;
    while ((newline = pending_.find('\n')) != std::string::npos) {
      reported_.push_back(std::stoll(pending_.substr(0, newline)));
      pending_.erase(0, newline + 1);
    }
    return true;
  }

  void kill_now() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // After the kill: every complete line already in the pipe was committed too.
  void drain() {
    while (read_some(std::chrono::steady_clock::now() + std::chrono::seconds(2))) {
    }
  }

  const std::vector<long long>& reported() const { return reported_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string pending_;
  std::vector<long long> reported_;
};

// `order`: a unique ordering of the table's rows (WITHOUT ROWID tables have no rowid).
std::set<std::string> column_values(testing::RawSqlite& raw, const std::string& column, const std::string& table,
                                    const std::string& order = "rowid") {
  std::set<std::string> values;
  const long long rows = raw.integer("SELECT count(*) FROM " + table);
  for (long long offset = 0; offset < rows; offset += 1) {
    values.insert(raw.text("SELECT " + column + " FROM " + table + " ORDER BY " + order + " LIMIT 1 OFFSET " +
                           std::to_string(offset)));
  }
  return values;
}

TEST(KillTest, EveryRowReportedCommittedSurvivesSigkill) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  // Kill after this many ids were reported, then after a further short random-ish delay, so the
  // signal lands inside a transaction, during a commit, or between bursts.
  const std::vector<std::pair<size_t, int>> kill_points = {{1, 0}, {40, 1}, {300, 0}, {700, 3}, {1500, 2}};
  std::vector<long long> all_reported;
  long long next_id = 0;
  // One bound for the whole test, below the ctest TIMEOUT, even on a loaded machine's disk.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (const auto& [after, extra_ms] : kill_points) {
    SCOPED_TRACE("kill after " + std::to_string(after) + " ids + " + std::to_string(extra_ms) + " ms");
    constexpr long long kCount = 1000000;  // never reached: the kill comes first
    Writer writer(path, next_id, kCount);
    while (writer.reported().size() < after) {
      ASSERT_TRUE(writer.read_some(deadline)) << "writer stopped or stalled after "
                                              << writer.reported().size() << " ids";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(extra_ms));
    writer.kill_now();
    writer.drain();
    all_reported.insert(all_reported.end(), writer.reported().begin(), writer.reported().end());
    next_id += kCount;

    {
      testing::RawSqlite raw(path);
      ASSERT_EQ(raw.text("PRAGMA integrity_check"), "ok");
      const auto cdrs = column_values(raw, "call_id", "call_records");
      const auto settings = column_values(raw, "value", "extension_settings", "extension, key");
      const long long bindings = raw.integer("SELECT count(*) FROM bindings");
      ASSERT_GE(bindings, static_cast<long long>(all_reported.size()));
      for (long long id : all_reported) {
        ASSERT_TRUE(cdrs.count("call-" + std::to_string(id))) << "lost committed call record " << id;
        ASSERT_TRUE(settings.count(std::to_string(id))) << "lost committed extension setting " << id;
        ASSERT_EQ(raw.integer("SELECT count(*) FROM bindings WHERE call_id = '" + std::to_string(id) + "'"), 1)
            << "lost committed binding " << id;
      }
    }
    // And the store itself accepts the file again.
    auto store = open_sqlite_store(path);
    EXPECT_GE(store->call_records().recent(SIZE_MAX).size(), all_reported.size());
  }
  EXPECT_GE(all_reported.size(), 2541u);
}

}  // namespace
}  // namespace b2bua::storage
