#include "storage/migrations.h"

#include <array>
#include <string>

namespace b2bua::storage {
namespace {

// Append only: a released migration is never edited, because databases in the field already
// ran it. Index i takes a database from version i to version i + 1.
constexpr std::array kMigrations{
    // 1: the three repositories.
    R"sql(
      CREATE TABLE bindings (
        aor        TEXT    NOT NULL,
        contact    TEXT    NOT NULL,
        call_id    TEXT    NOT NULL,
        cseq       INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        q          REAL    NOT NULL CHECK (q >= 0 AND q <= 1),
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (aor, contact)
      ) WITHOUT ROWID;
      CREATE TABLE trunk_state (
        trunk            TEXT    NOT NULL PRIMARY KEY,
        public_address   TEXT    NOT NULL,
        registered_until INTEGER NOT NULL,
        last_status      INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE call_records (
        id               INTEGER PRIMARY KEY,
        call_id          TEXT    NOT NULL,
        direction        TEXT    NOT NULL,
        extension        TEXT    NOT NULL,
        trunk            TEXT    NOT NULL,
        remote_number    TEXT    NOT NULL,
        start_ms         INTEGER NOT NULL,
        answer_ms        INTEGER NOT NULL,
        end_ms           INTEGER NOT NULL,
        final_code       INTEGER NOT NULL,
        hangup_by        TEXT    NOT NULL,
        media_stats_json TEXT    NOT NULL
      );
    )sql",
    // 2: the flow a binding came on (RFC 5626 / RFC 3581: we must answer through the same
    // flow, so it survives restarts) and an index for expiry sweeps at start.
    R"sql(
      ALTER TABLE bindings ADD COLUMN transport  TEXT    NOT NULL DEFAULT 'udp';
      ALTER TABLE bindings ADD COLUMN source     TEXT    NOT NULL DEFAULT '';
      ALTER TABLE bindings ADD COLUMN user_agent TEXT    NOT NULL DEFAULT '';
      ALTER TABLE bindings ADD COLUMN instance   TEXT    NOT NULL DEFAULT '';
      ALTER TABLE bindings ADD COLUMN reachable  INTEGER NOT NULL DEFAULT 1
        CHECK (reachable IN (0, 1));
      CREATE INDEX bindings_by_expiry ON bindings (expires_at);
    )sql",
    // 3: what routing decided for a call (blocked, forwarded, failed over), and the settings
    // phones change with feature codes, which must outlive a restart like the config does.
    R"sql(
      ALTER TABLE call_records ADD COLUMN notes TEXT NOT NULL DEFAULT '';
      CREATE TABLE extension_settings (
        extension  TEXT    NOT NULL,
        key        TEXT    NOT NULL,
        value      TEXT    NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (extension, key)
      ) WITHOUT ROWID;
    )sql",
    // 4: the answering machine's messages. The audio lives in files; a row names its file
    // (relative to the voicemail folder), which is unique. Listing a mailbox oldest first is
    // the one query that runs per call, hence the index.
    R"sql(
      CREATE TABLE voice_messages (
        id            INTEGER PRIMARY KEY,
        mailbox       TEXT    NOT NULL,
        caller_number TEXT    NOT NULL,
        caller_name   TEXT    NOT NULL,
        received_ms   INTEGER NOT NULL,
        duration_ms   INTEGER NOT NULL CHECK (duration_ms >= 0),
        size_bytes    INTEGER NOT NULL CHECK (size_bytes >= 0),
        file          TEXT    NOT NULL UNIQUE,
        heard         INTEGER NOT NULL DEFAULT 0 CHECK (heard IN (0, 1))
      );
      CREATE INDEX voice_messages_by_mailbox ON voice_messages (mailbox, received_ms);
    )sql",
};

bool table_exists(Connection& connection, const std::string& name) {
  Statement statement(connection, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1");
  statement.bind(1, name);
  ResetOnExit reset(statement);
  return statement.step();
}

int64_t count_tables(Connection& connection) {
  Statement statement(connection, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'");
  ResetOnExit reset(statement);
  statement.step();
  return statement.column_int64(0);
}

int64_t stored_version(Connection& connection) {
  Statement statement(connection, "SELECT version FROM schema_version");
  ResetOnExit reset(statement);
  if (!statement.step()) {
    throw StorageError("storage: " + connection.path() + ": schema_version table is empty");
  }
  return statement.column_int64(0);
}

}  // namespace

int current_schema_version() { return static_cast<int>(kMigrations.size()); }

void migrate(Connection& connection) {
  // IMMEDIATE: take the write lock before reading the version, so two processes starting on the
  // same file cannot both decide to run the same migration.
  connection.exec("BEGIN IMMEDIATE");
  try {
    int64_t version = 0;
    if (table_exists(connection, "schema_version")) {
      version = stored_version(connection);
    } else if (count_tables(connection) > 0) {
      // Tables but no version: someone else's database. Adding ours to it would hide the
      // mistake in the config path.
      throw StorageError("storage: " + connection.path() +
                         ": not a b2bua database (has tables but no schema_version)");
    } else {
      connection.exec("CREATE TABLE schema_version (version INTEGER NOT NULL)");
      connection.exec("INSERT INTO schema_version (version) VALUES (0)");
    }
    if (version < 0 || version > current_schema_version()) {
      throw StorageError("storage: " + connection.path() + ": schema version " +
                         std::to_string(version) + " is newer than this build knows (" +
                         std::to_string(current_schema_version()) +
                         "); refusing to open a database written by a newer b2bua");
    }
    for (auto i = static_cast<size_t>(version); i < kMigrations.size(); ++i) {
      connection.exec(kMigrations[i]);
    }
    connection.exec("UPDATE schema_version SET version = " + std::to_string(current_schema_version()));
    connection.exec("COMMIT");
  } catch (...) {
    if (connection.in_transaction()) connection.exec("ROLLBACK");
    throw;
  }
}

}  // namespace b2bua::storage
