// Forward migrations: a database written by an older release opens with its rows intact and
// ends at the current version; one from a newer release is refused.
#include <gtest/gtest.h>

#include <string>

#include "raw_sqlite.h"
#include "storage/migrations.h"
#include "storage/store.h"
#include "storage_test_support.h"

namespace b2bua::storage {
namespace {

// The schema as version 1 wrote it, frozen here on purpose: this is what exists in the field,
// whatever the migration code says today.
constexpr const char* kVersion1Schema = R"sql(
  CREATE TABLE schema_version (version INTEGER NOT NULL);
  INSERT INTO schema_version (version) VALUES (1);
  CREATE TABLE bindings (
    aor TEXT NOT NULL, contact TEXT NOT NULL, call_id TEXT NOT NULL, cseq INTEGER NOT NULL,
    expires_at INTEGER NOT NULL, q REAL NOT NULL CHECK (q >= 0 AND q <= 1), updated_at INTEGER NOT NULL,
    PRIMARY KEY (aor, contact)) WITHOUT ROWID;
  CREATE TABLE trunk_state (
    trunk TEXT NOT NULL PRIMARY KEY, public_address TEXT NOT NULL, registered_until INTEGER NOT NULL,
    last_status INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE call_records (
    id INTEGER PRIMARY KEY, call_id TEXT NOT NULL, direction TEXT NOT NULL, extension TEXT NOT NULL,
    trunk TEXT NOT NULL, remote_number TEXT NOT NULL, start_ms INTEGER NOT NULL, answer_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL, final_code INTEGER NOT NULL, hangup_by TEXT NOT NULL,
    media_stats_json TEXT NOT NULL);
  INSERT INTO bindings VALUES ('10', 'sip:10@192.168.1.20:5060', 'abc@192.168.1.20', 42, 5000, 0.8, 1000);
  INSERT INTO trunk_state VALUES ('provider', '198.51.100.4:5060', 4000, 200, 1000);
  INSERT INTO call_records VALUES (7, 'call-7', 'inbound', '10', 'provider', '+4930999', 100, 200, 300,
    200, 'callee', '{}');
)sql";

// What version 2 added on top of version 1, frozen likewise, with a row that uses it: applied
// after kVersion1Schema it gives a database as version 2 left it.
constexpr const char* kVersion2Changes = R"sql(
  UPDATE schema_version SET version = 2;
  ALTER TABLE bindings ADD COLUMN transport TEXT NOT NULL DEFAULT 'udp';
  ALTER TABLE bindings ADD COLUMN source TEXT NOT NULL DEFAULT '';
  ALTER TABLE bindings ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
  ALTER TABLE bindings ADD COLUMN instance TEXT NOT NULL DEFAULT '';
  ALTER TABLE bindings ADD COLUMN reachable INTEGER NOT NULL DEFAULT 1 CHECK (reachable IN (0, 1));
  CREATE INDEX bindings_by_expiry ON bindings (expires_at);
  INSERT INTO bindings VALUES ('12', 'sip:12@192.168.1.22:5062', 'def@192.168.1.22', 3, 5000, 1.0, 1000,
    'tls', '192.168.1.22:40000', 'Yealink T54W', '', 0);
  INSERT INTO call_records VALUES (8, 'call-8', 'outbound', '12', 'provider', '+4930888', 400, 0, 500,
    486, 'callee', '{}');
)sql";

// What version 3 added on top of version 2, frozen likewise, with rows that use it.
constexpr const char* kVersion3Changes = R"sql(
  UPDATE schema_version SET version = 3;
  ALTER TABLE call_records ADD COLUMN notes TEXT NOT NULL DEFAULT '';
  CREATE TABLE extension_settings (
    extension TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (extension, key)) WITHOUT ROWID;
  INSERT INTO extension_settings VALUES ('10', 'forward.busy', '11', 1000);
  INSERT INTO call_records VALUES (9, 'call-9', 'internal', '10', '', '11', 600, 700, 800,
    200, 'caller', '{}', 'forwarded=busy:11');
)sql";

int stored_version(const std::string& path) {
  testing::RawSqlite raw(path);
  return static_cast<int>(raw.integer("SELECT version FROM schema_version"));
}

TEST(MigrationsTest, FreshDatabaseIsAtTheCurrentVersion) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  open_sqlite_store(path).reset();
  EXPECT_EQ(stored_version(path), current_schema_version());
  EXPECT_GE(current_schema_version(), 4);
}

TEST(MigrationsTest, Version1DatabaseMigratesWithItsRowsIntact) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  testing::RawSqlite(path).exec(kVersion1Schema);

  {
    auto store = open_sqlite_store(path);
    const auto bindings = store->bindings().load_unexpired(1000);
    ASSERT_EQ(bindings.size(), 1u);
    EXPECT_EQ(bindings[0].contact, "sip:10@192.168.1.20:5060");
    EXPECT_EQ(bindings[0].cseq, 42u);
    EXPECT_DOUBLE_EQ(bindings[0].q, 0.8);
    // Columns version 2 added take their defaults for old rows.
    EXPECT_EQ(bindings[0].transport, "udp");
    EXPECT_EQ(bindings[0].source, "");
    EXPECT_TRUE(bindings[0].answering_options);

    const auto trunk = store->trunk_states().load("provider");
    ASSERT_TRUE(trunk.has_value());
    EXPECT_EQ(trunk->public_address, "198.51.100.4:5060");

    const auto records = store->call_records().recent(10);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].id, 7);
    EXPECT_EQ(records[0].call_id, "call-7");
    EXPECT_EQ(records[0].notes, "") << "a column version 3 added, defaulted for old rows";
    EXPECT_TRUE(store->extension_settings().load_all().empty());

    // The migrated schema takes new-style rows.
    BindingRow row = testing::make_binding("11", "sip:11@192.168.1.21", 6000);
    store->bindings().save(row);
    store->flush();
  }
  EXPECT_EQ(stored_version(path), current_schema_version());
  testing::RawSqlite raw(path);
  EXPECT_EQ(raw.text("SELECT transport FROM bindings WHERE aor = '11'"), "tcp");
  EXPECT_EQ(raw.text("PRAGMA integrity_check"), "ok");
}

TEST(MigrationsTest, Version2DatabaseMigratesWithItsRowsIntact) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  {
    testing::RawSqlite raw(path);
    raw.exec(kVersion1Schema);
    raw.exec(kVersion2Changes);
  }
  ASSERT_EQ(stored_version(path), 2);

  {
    auto store = open_sqlite_store(path);
    const auto bindings = store->bindings().load_unexpired(1000);
    ASSERT_EQ(bindings.size(), 2u);
    EXPECT_EQ(bindings[1].aor, "12");
    EXPECT_EQ(bindings[1].transport, "tls");
    EXPECT_EQ(bindings[1].user_agent, "Yealink T54W");
    EXPECT_FALSE(bindings[1].answering_options);

    const auto records = store->call_records().recent(10);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].call_id, "call-8");
    EXPECT_EQ(records[0].final_code, 486);
    EXPECT_EQ(records[0].notes, "");
    EXPECT_EQ(records[1].notes, "");

    // The migrated schema takes the new columns and table.
    CallRecordRow record = testing::make_call_record("call-9");
    record.notes = "blocked=global_number";
    store->call_records().insert(record);
    store->extension_settings().save(testing::make_setting("12", "dnd", "1"));
    store->flush();
  }
  EXPECT_EQ(stored_version(path), current_schema_version());
  auto store = open_sqlite_store(path);
  const auto records = store->call_records().recent(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].notes, "blocked=global_number");
  const auto settings = store->extension_settings().load_all();
  ASSERT_EQ(settings.size(), 1u);
  EXPECT_EQ(settings[0].extension, "12");
  EXPECT_EQ(settings[0].value, "1");
  store.reset();
  testing::RawSqlite raw(path);
  EXPECT_EQ(raw.text("PRAGMA integrity_check"), "ok");
  // WITHOUT ROWID: the table is its primary key's b-tree, no hidden rowid.
  EXPECT_EQ(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'extension_settings'"
                        " AND sql LIKE '%WITHOUT ROWID%'"),
            1);
}

TEST(MigrationsTest, Version3DatabaseMigratesWithItsRowsIntact) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  {
    testing::RawSqlite raw(path);
    raw.exec(kVersion1Schema);
    raw.exec(kVersion2Changes);
    raw.exec(kVersion3Changes);
  }
  ASSERT_EQ(stored_version(path), 3);

  int64_t message_id = 0;
  {
    auto store = open_sqlite_store(path);
    const auto settings = store->extension_settings().load_all();
    ASSERT_EQ(settings.size(), 1u);
    EXPECT_EQ(settings[0].value, "11");
    const auto records = store->call_records().recent(1);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].notes, "forwarded=busy:11");
    EXPECT_EQ(store->bindings().load_unexpired(1000).size(), 2u);

    // The table version 4 added is there, empty, and takes rows.
    EXPECT_TRUE(store->voice_messages().list_all().empty());
    message_id = store->voice_messages().insert(testing::make_voice_message("10", 1733512345123));
  }
  EXPECT_EQ(stored_version(path), current_schema_version());
  auto store = open_sqlite_store(path);
  const auto messages = store->voice_messages().list("10");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].id, message_id);
  store.reset();
  testing::RawSqlite raw(path);
  EXPECT_EQ(raw.text("PRAGMA integrity_check"), "ok");
  // Listing a mailbox is the per-call query: it must not scan the table.
  EXPECT_EQ(raw.integer("SELECT count(*) FROM sqlite_schema WHERE type = 'index'"
                        " AND tbl_name = 'voice_messages' AND name = 'voice_messages_by_mailbox'"),
            1);
}

TEST(MigrationsTest, FailedVersion4MigrationLeavesVersion3AsItWas) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  {
    testing::RawSqlite raw(path);
    raw.exec(kVersion1Schema);
    raw.exec(kVersion2Changes);
    raw.exec(kVersion3Changes);
    // An index of that name already there (made by hand): migration 4 fails after its CREATE TABLE.
    raw.exec("CREATE INDEX voice_messages_by_mailbox ON call_records (extension)");
  }
  EXPECT_THROW(open_sqlite_store(path), StorageError);
  EXPECT_EQ(stored_version(path), 3);
  testing::RawSqlite raw(path);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'voice_messages'"), 0);
}

TEST(MigrationsTest, FailedVersion3MigrationLeavesVersion2AsItWas) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  {
    testing::RawSqlite raw(path);
    raw.exec(kVersion1Schema);
    raw.exec(kVersion2Changes);
    // A table of that name already there (made by hand): migration 3 fails after its ALTER.
    raw.exec("CREATE TABLE extension_settings (x)");
  }
  try {
    open_sqlite_store(path);
    FAIL() << "migration should have failed";
  } catch (const StorageError& error) {
    EXPECT_NE(std::string(error.what()).find("extension_settings"), std::string::npos) << error.what();
  }
  EXPECT_EQ(stored_version(path), 2);
  testing::RawSqlite raw(path);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM pragma_table_info('call_records') WHERE name = 'notes'"), 0);
}

TEST(MigrationsTest, OpeningTwiceDoesNotMigrateAgain) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  testing::RawSqlite(path).exec(kVersion1Schema);
  open_sqlite_store(path).reset();
  open_sqlite_store(path).reset();
  EXPECT_EQ(stored_version(path), current_schema_version());
  testing::RawSqlite raw(path);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM schema_version"), 1);
}

TEST(MigrationsTest, DatabaseFromANewerReleaseIsRefusedAndLeftAsIs) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  const int future = current_schema_version() + 1;
  {
    testing::RawSqlite raw(path);
    raw.exec("CREATE TABLE schema_version (version INTEGER NOT NULL)");
    raw.exec("INSERT INTO schema_version (version) VALUES (" + std::to_string(future) + ")");
    raw.exec("CREATE TABLE bindings_v9 (x)");
  }
  try {
    open_sqlite_store(path);
    FAIL() << "opened a database from the future";
  } catch (const StorageError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("schema version " + std::to_string(future)), std::string::npos) << message;
    EXPECT_NE(message.find("newer"), std::string::npos) << message;
  }
  EXPECT_EQ(stored_version(path), future);
  testing::RawSqlite raw(path);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'bindings'"), 0);
}

TEST(MigrationsTest, FailedMigrationRollsBackToTheOldVersion) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  testing::RawSqlite(path).exec(kVersion1Schema);
  // An old database in which the index version 2 creates already exists (hand-made by an admin):
  // migration 2 fails half way and must leave no half-migrated schema behind.
  testing::RawSqlite(path).exec("CREATE INDEX bindings_by_expiry ON bindings (aor)");
  try {
    open_sqlite_store(path);
    FAIL() << "migration should have failed";
  } catch (const StorageError& error) {
    EXPECT_NE(std::string(error.what()).find("bindings_by_expiry"), std::string::npos) << error.what();
  }
  EXPECT_EQ(stored_version(path), 1);
  testing::RawSqlite raw(path);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM pragma_table_info('bindings') WHERE name = 'transport'"), 0);
}

}  // namespace
}  // namespace b2bua::storage
