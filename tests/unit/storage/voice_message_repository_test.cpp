#include <gtest/gtest.h>

#include "raw_sqlite.h"
#include "storage/store.h"
#include "storage_test_support.h"

namespace b2bua::storage {
namespace {

using testing::make_voice_message;

using VoiceMessageRepositoryTest = testing::StoreOnMemoryAndDisk;
INSTANTIATE_TEST_SUITE_P(Store, VoiceMessageRepositoryTest, ::testing::Bool(), testing::memory_or_disk_name);

TEST_P(VoiceMessageRepositoryTest, EmptyStoreHasNoMessages) {
  EXPECT_TRUE(store_->voice_messages().list("10").empty());
  EXPECT_TRUE(store_->voice_messages().list_all().empty());
  EXPECT_FALSE(store_->voice_messages().find(1).has_value());
}

TEST_P(VoiceMessageRepositoryTest, InsertThenFindReturnsEveryField) {
  VoiceMessageRow saved = make_voice_message("10", 1733512345123);
  saved.id = 999;  // ignored: the database assigns it
  saved.heard = true;
  const int64_t id = store_->voice_messages().insert(saved);
  EXPECT_GT(id, 0);
  EXPECT_NE(id, 999);
  const auto row = store_->voice_messages().find(id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->id, id);
  EXPECT_EQ(row->mailbox, "10");
  EXPECT_EQ(row->caller_number, "+4930123456");
  EXPECT_EQ(row->caller_name, "Erika Mustermann");
  EXPECT_EQ(row->received_ms, 1733512345123);
  EXPECT_EQ(row->duration_ms, 12500);
  EXPECT_EQ(row->size_bytes, 200044);
  EXPECT_EQ(row->file, "10/1733512345123-1a2b3c4d.wav");
  EXPECT_TRUE(row->heard);
}

TEST_P(VoiceMessageRepositoryTest, WithheldCallerIsStoredAsEmpty) {
  VoiceMessageRow saved = make_voice_message("10", 1000);
  saved.caller_number = "";
  saved.caller_name = "";
  const auto row = store_->voice_messages().find(store_->voice_messages().insert(saved));
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->caller_number, "");
  EXPECT_EQ(row->caller_name, "");
  EXPECT_FALSE(row->heard);
}

TEST_P(VoiceMessageRepositoryTest, EachInsertGetsItsOwnId) {
  const int64_t first = store_->voice_messages().insert(make_voice_message("10", 1000));
  const int64_t second = store_->voice_messages().insert(make_voice_message("10", 2000));
  EXPECT_NE(first, second);
}

TEST_P(VoiceMessageRepositoryTest, ListIsOneMailboxOldestFirst) {
  auto& repo = store_->voice_messages();
  const int64_t newest = repo.insert(make_voice_message("10", 3000));
  const int64_t oldest = repo.insert(make_voice_message("10", 1000));
  repo.insert(make_voice_message("11", 500));
  const int64_t middle = repo.insert(make_voice_message("10", 2000));
  const auto rows = repo.list("10");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].id, oldest);
  EXPECT_EQ(rows[1].id, middle);
  EXPECT_EQ(rows[2].id, newest);
  EXPECT_EQ(repo.list("11").size(), 1u);
  EXPECT_TRUE(repo.list("1").empty()) << "a mailbox is matched whole, not by prefix";
}

TEST_P(VoiceMessageRepositoryTest, SameMillisecondIsOrderedByInsertion) {
  auto& repo = store_->voice_messages();
  VoiceMessageRow a = make_voice_message("10", 1000);
  VoiceMessageRow b = make_voice_message("10", 1000);
  b.file = "10/1000-ffffffff.wav";
  const int64_t first = repo.insert(a);
  const int64_t second = repo.insert(b);
  const auto rows = repo.list("10");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, first);
  EXPECT_EQ(rows[1].id, second);
}

TEST_P(VoiceMessageRepositoryTest, ListAllIsOrderedByMailboxThenAge) {
  auto& repo = store_->voice_messages();
  repo.insert(make_voice_message("11", 1000));
  repo.insert(make_voice_message("10", 2000));
  repo.insert(make_voice_message("10", 1500));
  const auto rows = repo.list_all();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].file, "10/1500-1a2b3c4d.wav");
  EXPECT_EQ(rows[1].file, "10/2000-1a2b3c4d.wav");
  EXPECT_EQ(rows[2].file, "11/1000-1a2b3c4d.wav");
}

TEST_P(VoiceMessageRepositoryTest, SetHeardChangesOnlyThatMessage) {
  auto& repo = store_->voice_messages();
  const int64_t a = repo.insert(make_voice_message("10", 1000));
  const int64_t b = repo.insert(make_voice_message("10", 2000));
  repo.set_heard(a, true);
  EXPECT_TRUE(repo.find(a)->heard);
  EXPECT_FALSE(repo.find(b)->heard);
  repo.set_heard(a, false);
  EXPECT_FALSE(repo.find(a)->heard);
  repo.set_heard(12345, true);  // absent: ignored
}

TEST_P(VoiceMessageRepositoryTest, RemoveDeletesOnlyThatMessage) {
  auto& repo = store_->voice_messages();
  const int64_t a = repo.insert(make_voice_message("10", 1000));
  const int64_t b = repo.insert(make_voice_message("10", 2000));
  repo.remove(a);
  EXPECT_FALSE(repo.find(a).has_value());
  ASSERT_EQ(repo.list("10").size(), 1u);
  EXPECT_EQ(repo.list("10")[0].id, b);
  repo.remove(a);  // again: harmless
  EXPECT_EQ(repo.list_all().size(), 1u);
}

TEST_P(VoiceMessageRepositoryTest, TwoRowsCannotNameOneFile) {
  // One file, two rows: deleting either would take the other's audio.
  store_->voice_messages().insert(make_voice_message("10", 1000));
  EXPECT_THROW(store_->voice_messages().insert(make_voice_message("10", 1000)), StorageError);
  EXPECT_EQ(store_->voice_messages().list("10").size(), 1u);
}

TEST(VoiceMessagePersistenceTest, EveryCallIsOnDiskWhenItReturns) {
  // No flush(): the repository is synchronous, so a second connection sees each change at once.
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  auto store = open_sqlite_store(path);
  auto& repo = store->voice_messages();
  const int64_t kept = repo.insert(make_voice_message("10", 1000));
  const int64_t gone = repo.insert(make_voice_message("10", 2000));
  {
    testing::RawSqlite raw(path);
    EXPECT_EQ(raw.integer("SELECT count(*) FROM voice_messages"), 2);
  }
  repo.set_heard(kept, true);
  repo.remove(gone);
  {
    testing::RawSqlite raw(path);
    EXPECT_EQ(raw.integer("SELECT count(*) FROM voice_messages"), 1);
    EXPECT_EQ(raw.integer("SELECT heard FROM voice_messages WHERE id = " + std::to_string(kept)), 1);
  }
  store.reset();
  auto reopened = open_sqlite_store(path);
  const auto rows = reopened->voice_messages().list_all();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, kept);
  EXPECT_TRUE(rows[0].heard);
  EXPECT_EQ(rows[0].caller_name, "Erika Mustermann");
}

TEST(VoiceMessagePersistenceTest, DurationBeyondRangeIsReportedNotTruncated) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  open_sqlite_store(path).reset();
  {
    // The schema only checks the sign; a hand edit can still put in more than an int holds.
    testing::RawSqlite raw(path);
    raw.exec("INSERT INTO voice_messages (mailbox, caller_number, caller_name, received_ms, duration_ms,"
             " size_bytes, file, heard) VALUES ('10', '', '', 1, 3000000000, 44, '10/1-x.wav', 0)");
  }
  auto store = open_sqlite_store(path);
  try {
    store->voice_messages().list("10");
    FAIL() << "a duration of 3e9 ms was read as a message";
  } catch (const StorageError& error) {
    EXPECT_NE(std::string(error.what()).find("duration_ms"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("voice_messages row id="), std::string::npos) << error.what();
  }
  // The store keeps working after a failed read.
  EXPECT_GT(store->voice_messages().insert(make_voice_message("11", 5)), 0);
}

}  // namespace
}  // namespace b2bua::storage
