#include "storage/database.h"

#include <filesystem>
#include <system_error>

#include "storage/migrations.h"

namespace b2bua::storage {
namespace {

constexpr const char* kMemory = ":memory:";

void create_parent_directory(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code error;
  std::filesystem::create_directories(parent, error);
  if (error) {
    throw StorageError("storage: " + path + ": cannot create directory " + parent.string() + ": " +
                       error.message());
  }
}

// Reads every page: a truncated or scribbled-over file fails here, at start, with SQLite's words,
// instead of later in the middle of a call. quick_check is linear in the file size; our files
// are small (bindings, a few trunks, call records), milliseconds on a router.
void check_integrity(Connection& connection) {
  const std::string result = connection.query_text("PRAGMA quick_check");
  if (result != "ok") {
    throw StorageError("storage: " + connection.path() + ": database is corrupted: " + result);
  }
}

void configure(Connection& connection, bool in_memory) {
  // A second process (sqlite3 shell, backup) may hold the lock briefly; wait rather than fail.
  connection.exec("PRAGMA busy_timeout = 5000");
  if (!in_memory) {
    // WAL: one fsync per commit (the WAL only) instead of two, and readers never block the
    // writer. Needs shared memory, so it can fail on exotic filesystems: say so.
    const std::string mode = connection.query_text("PRAGMA journal_mode = WAL");
    if (mode != "wal") {
      throw StorageError("storage: " + connection.path() + ": cannot switch to WAL mode (got '" +
                         mode + "')");
    }
  }
  // FULL, not NORMAL. With WAL, NORMAL already survives kill -9 (committed pages are in the OS
  // page cache), but it skips the fsync at commit, so a power cut can lose the last commits. A
  // home router loses power more often than it is kill -9'd, and a call record reported written
  // should stay written. FULL costs one fsync per commit; the storage thread's group commit
  // shares that fsync among every write queued meanwhile, so the SIP thread never pays it.
  connection.exec("PRAGMA synchronous = FULL");
  connection.exec("PRAGMA foreign_keys = ON");
}

}  // namespace

Connection open_database(const std::string& path) {
  const bool in_memory = path == kMemory;
  if (!in_memory) create_parent_directory(path);
  Connection connection(path);
  check_integrity(connection);
  configure(connection, in_memory);
  migrate(connection);
  return connection;
}

}  // namespace b2bua::storage
