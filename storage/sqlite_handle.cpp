#include "storage/sqlite_handle.h"

#include <sqlite3.h>

#include <limits>
#include <utility>

namespace b2bua::storage {

Connection::Connection(std::string path) : path_(std::move(path)) {
  // NOMUTEX: each connection is used by one thread at a time (the storage thread, or the
  // opener before that thread starts), so SQLite's own per-connection mutex is pure cost.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    // sqlite3_open_v2 hands back a handle even on failure, only to carry the message.
    std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw StorageError("storage: " + path_ + ": cannot open: " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
  // Without write permission SQLite quietly falls back to read-only; every later write would
  // then fail one by one. Refuse at start instead, where the admin looks.
  if (sqlite3_db_readonly(db_, "main") == 1) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw StorageError("storage: " + path_ + ": cannot open for writing: " +
                       sqlite3_errstr(SQLITE_READONLY) + " (check the file's owner and permissions)");
  }
}

Connection::Connection(Connection&& other) noexcept
    : path_(std::move(other.path_)), db_(std::exchange(other.db_, nullptr)) {}

Connection::~Connection() { sqlite3_close_v2(db_); }

void Connection::fail(std::string_view what) const {
  throw StorageError("storage: " + path_ + ": " + std::string(what) + ": " + sqlite3_errmsg(db_));
}

void Connection::fail(std::string_view what, int rc) const {
  // The connection's message may belong to an older call when rc came from elsewhere (a
  // statement that stepped after another error), so fall back to the code's own text.
  const char* message = sqlite3_errcode(db_) == rc ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  throw StorageError("storage: " + path_ + ": " + std::string(what) + ": " + message);
}

void Connection::exec(const std::string& sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    throw StorageError("storage: " + path_ + ": " + message + " (in: " + sql + ")");
  }
}

std::string Connection::query_text(const std::string& sql) {
  Statement statement(*this, sql);
  ResetOnExit reset(statement);
  return statement.step() ? statement.column_text(0) : std::string();
}

bool Connection::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

Statement::Statement(Connection& connection, std::string_view sql) : connection_(connection) {
  if (sql.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    throw StorageError("storage: " + connection_.path() + ": statement too long");
  }
  const int rc = sqlite3_prepare_v3(connection_.raw(), sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) connection_.fail("prepare `" + std::string(sql) + "`", rc);
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) connection_.fail("bind", rc);
  return *this;
}

Statement& Statement::bind(int index, double value) {
  const int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK) connection_.fail("bind", rc);
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  const int rc = sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                     SQLITE_UTF8);
  if (rc != SQLITE_OK) connection_.fail("bind", rc);
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string what = std::string("step `") + sqlite3_sql(stmt_) + "`";
  sqlite3_reset(stmt_);
  connection_.fail(what, rc);
}

void Statement::reset() {
  // The error sqlite3_reset would repeat was already reported by step().
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::run() {
  ResetOnExit reset(*this);
  while (step()) {
  }
}

int64_t Statement::column_int64(int index) const { return sqlite3_column_int64(stmt_, index); }

int64_t Statement::column_int64_in(int index, int64_t min, int64_t max, const std::string& row,
                                   const char* column) const {
  const int64_t value = column_int64(index);
  if (value < min || value > max) {
    throw StorageError("storage: " + connection_.path() + ": " + row + " has " + column +
                       " out of range: " + std::to_string(value));
  }
  return value;
}

double Statement::column_double(int index) const { return sqlite3_column_double(stmt_, index); }

std::string Statement::column_text(int index) const {
  const unsigned char* text = sqlite3_column_text(stmt_, index);
  if (text == nullptr) return {};
  return {reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt_, index))};
}

Savepoint::Savepoint(Connection& connection) : connection_(connection) {
  connection_.exec("SAVEPOINT repository");
}

Savepoint::~Savepoint() {
  if (!open_) return;
  // Unwinding from a failed statement: undo this unit only. If SQLite already rolled the whole
  // transaction back (disk full, I/O error) there is nothing left to undo.
  sqlite3_exec(connection_.raw(), "ROLLBACK TO repository; RELEASE repository", nullptr, nullptr,
               nullptr);
}

void Savepoint::release() {
  connection_.exec("RELEASE repository");
  open_ = false;
}

}  // namespace b2bua::storage
