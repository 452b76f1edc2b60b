#include <gtest/gtest.h>

#include "raw_sqlite.h"
#include "storage/store.h"
#include "storage_test_support.h"

namespace b2bua::storage {
namespace {

using testing::make_setting;

using ExtensionSettingRepositoryTest = testing::StoreOnMemoryAndDisk;
INSTANTIATE_TEST_SUITE_P(Store, ExtensionSettingRepositoryTest, ::testing::Bool(), testing::memory_or_disk_name);

TEST_P(ExtensionSettingRepositoryTest, EmptyStoreHasNoSettings) {
  EXPECT_TRUE(store_->extension_settings().load_all().empty());
}

TEST_P(ExtensionSettingRepositoryTest, SaveThenLoadReturnsEveryField) {
  ExtensionSettingRow saved = make_setting("10", "forward.busy", "+4930123456");
  saved.updated_at = 1712345678;
  store_->extension_settings().save(saved);
  const auto rows = store_->extension_settings().load_all();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].extension, "10");
  EXPECT_EQ(rows[0].key, "forward.busy");
  EXPECT_EQ(rows[0].value, "+4930123456");
  EXPECT_EQ(rows[0].updated_at, 1712345678);
}

TEST_P(ExtensionSettingRepositoryTest, EmptyValueIsStoredAsSuch) {
  // "" is meaningful (a forward the phone switched off), so it must not read back as absent.
  store_->extension_settings().save(make_setting("10", "forward.always", ""));
  const auto rows = store_->extension_settings().load_all();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].value, "");
}

TEST_P(ExtensionSettingRepositoryTest, SaveSameExtensionAndKeyReplacesTheRow) {
  store_->extension_settings().save(make_setting("10", "dnd", "1"));
  ExtensionSettingRow later = make_setting("10", "dnd", "0");
  later.updated_at = 1700000100;
  store_->extension_settings().save(later);
  const auto rows = store_->extension_settings().load_all();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].value, "0");
  EXPECT_EQ(rows[0].updated_at, 1700000100);
}

TEST_P(ExtensionSettingRepositoryTest, SameKeyOfAnotherExtensionIsAnotherRow) {
  store_->extension_settings().save(make_setting("10", "dnd", "1"));
  store_->extension_settings().save(make_setting("11", "dnd", "0"));
  store_->extension_settings().save(make_setting("10", "call_waiting", "0"));
  EXPECT_EQ(store_->extension_settings().load_all().size(), 3u);
}

TEST_P(ExtensionSettingRepositoryTest, LoadAllIsOrderedByExtensionThenKey) {
  store_->extension_settings().save(make_setting("11", "forward.always", "10"));
  store_->extension_settings().save(make_setting("10", "forward.busy", "12"));
  store_->extension_settings().save(make_setting("10", "dnd", "1"));
  const auto rows = store_->extension_settings().load_all();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].extension + "/" + rows[0].key, "10/dnd");
  EXPECT_EQ(rows[1].extension + "/" + rows[1].key, "10/forward.busy");
  EXPECT_EQ(rows[2].extension + "/" + rows[2].key, "11/forward.always");
}

TEST_P(ExtensionSettingRepositoryTest, RemoveDeletesOnlyThatKeyOfThatExtension) {
  store_->extension_settings().save(make_setting("10", "dnd", "1"));
  store_->extension_settings().save(make_setting("10", "forward.busy", "12"));
  store_->extension_settings().save(make_setting("11", "dnd", "1"));
  store_->extension_settings().remove("10", "dnd");
  const auto rows = store_->extension_settings().load_all();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].extension + "/" + rows[0].key, "10/forward.busy");
  EXPECT_EQ(rows[1].extension + "/" + rows[1].key, "11/dnd");
}

TEST_P(ExtensionSettingRepositoryTest, RemoveOfAnAbsentRowIsHarmless) {
  store_->extension_settings().save(make_setting("10", "dnd", "1"));
  store_->extension_settings().remove("10", "call_waiting");
  store_->extension_settings().remove("99", "dnd");
  store_->flush();
  EXPECT_EQ(store_->extension_settings().load_all().size(), 1u);
}

TEST_P(ExtensionSettingRepositoryTest, SaveAfterRemoveComesBack) {
  store_->extension_settings().save(make_setting("10", "dnd", "1"));
  store_->extension_settings().remove("10", "dnd");
  store_->extension_settings().save(make_setting("10", "dnd", "0"));
  const auto rows = store_->extension_settings().load_all();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].value, "0");
}

TEST(ExtensionSettingPersistenceTest, FlushedSettingsSurviveReopening) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  {
    auto store = open_sqlite_store(path);
    store->extension_settings().save(make_setting("10", "forward.no_answer", "0301234567"));
    store->extension_settings().save(make_setting("10", "forward.no_answer_after", "45"));
    store->extension_settings().save(make_setting("11", "dnd", "1"));
    store->extension_settings().remove("11", "dnd");
    store->extension_settings().save(make_setting("12", "call_waiting", "0"));
    store->flush();
  }
  {
    // What is on disk, not what the store believes.
    testing::RawSqlite raw(path);
    EXPECT_EQ(raw.integer("SELECT count(*) FROM extension_settings"), 3);
    EXPECT_EQ(raw.text("SELECT value FROM extension_settings WHERE extension = '10' AND key = 'forward.no_answer'"),
              "0301234567");
  }
  auto store = open_sqlite_store(path);
  const auto rows = store->extension_settings().load_all();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].key, "forward.no_answer");
  EXPECT_EQ(rows[1].key, "forward.no_answer_after");
  EXPECT_EQ(rows[1].value, "45");
  EXPECT_EQ(rows[2].extension, "12");
  EXPECT_EQ(rows[2].value, "0");
}

TEST(ExtensionSettingPersistenceTest, WritesQueuedBeforeCloseAreCommittedByTheClose) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  {
    auto store = open_sqlite_store(path);
    for (int i = 0; i < 200; ++i) store->extension_settings().save(make_setting(std::to_string(i), "dnd", "1"));
  }
  testing::RawSqlite raw(path);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM extension_settings"), 200);
}

}  // namespace
}  // namespace b2bua::storage
