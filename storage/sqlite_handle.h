// RAII over the SQLite C handles: one Connection owns the sqlite3*, each Statement owns its
// prepared sqlite3_stmt*. Every failure throws StorageError naming the database path and
// SQLite's own message, so a broken disk is explained rather than guessed at.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace b2bua::storage {

class Connection {
 public:
  // Opens an existing file or creates a missing one (":memory:" for a private in-memory db).
  explicit Connection(std::string path);
  ~Connection();
  // Movable so open_database() can hand one back; never move one that has statements.
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&&) = delete;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements that return no rows we care about.
  void exec(const std::string& sql);
  // Runs a statement returning one text value (PRAGMAs), empty if it returns no row.
  std::string query_text(const std::string& sql);

  [[noreturn]] void fail(std::string_view what) const;
  [[noreturn]] void fail(std::string_view what, int rc) const;
  const std::string& path() const { return path_; }
  bool in_transaction() const;
  sqlite3* raw() const { return db_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

// A prepared statement kept for the lifetime of its repository (SQLITE_PREPARE_PERSISTENT):
// the SQL is compiled once, each use only binds and steps.
class Statement {
 public:
  Statement(Connection& connection, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based as in SQLite; text is copied (SQLITE_TRANSIENT) so the caller's
  // strings may go away before step().
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);

  // true: a row is ready; false: done.
  bool step();
  // Back to the start with bindings cleared; ends any read the statement held open.
  void reset();
  // step() to completion, then reset().
  void run();

  int64_t column_int64(int index) const;
  // A number column that must lie in [min, max]: anything else is damage to the file, thrown
  // as a StorageError naming the file, `row` (e.g. "bindings row aor=10") and `column`.
  int64_t column_int64_in(int index, int64_t min, int64_t max, const std::string& row, const char* column) const;
  double column_double(int index) const;
  std::string column_text(int index) const;

 private:
  Connection& connection_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a statement when a query loop leaves, normally or by exception, so no read
// transaction stays open behind the caller's back (it would pin the WAL and block checkpoints).
class ResetOnExit {
 public:
  explicit ResetOnExit(Statement& statement) : statement_(statement) {}
  ~ResetOnExit() { statement_.reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  Statement& statement_;
};

// A savepoint rather than BEGIN: it nests, so the same repository code runs alone (its own
// transaction) or inside the storage thread's group-commit transaction.
class Savepoint {
 public:
  explicit Savepoint(Connection& connection);
  ~Savepoint();
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;
  void release();

 private:
  Connection& connection_;
  bool open_ = true;
};

}  // namespace b2bua::storage
