#include <gtest/gtest.h>

#include "storage/store.h"
#include "storage_test_support.h"

namespace b2bua::storage {
namespace {

using testing::make_binding;

using BindingRepositoryTest = testing::StoreOnMemoryAndDisk;
INSTANTIATE_TEST_SUITE_P(Store, BindingRepositoryTest, ::testing::Bool(), testing::memory_or_disk_name);

TEST_P(BindingRepositoryTest, SaveThenLoadReturnsEveryField) {
  const BindingRow saved = make_binding("10", "sip:10@10.0.0.2:5060;transport=tcp", 2000);
  store_->bindings().save(saved);
  const auto rows = store_->bindings().load_unexpired(1000);
  ASSERT_EQ(rows.size(), 1u);
  const BindingRow& row = rows[0];
  EXPECT_EQ(row.aor, saved.aor);
  EXPECT_EQ(row.contact, saved.contact);
  EXPECT_EQ(row.call_id, saved.call_id);
  EXPECT_EQ(row.cseq, saved.cseq);
  EXPECT_EQ(row.expires_at, saved.expires_at);
  EXPECT_DOUBLE_EQ(row.q, saved.q);
  EXPECT_EQ(row.transport, saved.transport);
  EXPECT_EQ(row.source, saved.source);
  EXPECT_EQ(row.user_agent, saved.user_agent);
  EXPECT_EQ(row.instance, saved.instance);
  EXPECT_EQ(row.answering_options, saved.answering_options);
  EXPECT_EQ(row.updated_at, saved.updated_at);
}

TEST_P(BindingRepositoryTest, SaveSameAorAndContactReplacesTheRow) {
  BindingRow row = make_binding("10", "sip:10@10.0.0.2", 2000);
  store_->bindings().save(row);
  row.cseq = 8;
  row.expires_at = 3000;
  row.answering_options = true;
  store_->bindings().save(row);
  const auto rows = store_->bindings().load_unexpired(1000);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].cseq, 8u);
  EXPECT_EQ(rows[0].expires_at, 3000);
  EXPECT_TRUE(rows[0].answering_options);
}

TEST_P(BindingRepositoryTest, CseqKeepsItsFullUnsigned32BitRange) {
  BindingRow row = make_binding("10", "sip:10@10.0.0.2", 2000);
  row.cseq = 4294967295u;
  store_->bindings().save(row);
  const auto rows = store_->bindings().load_unexpired(1000);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].cseq, 4294967295u);
}

TEST_P(BindingRepositoryTest, RemoveDeletesOnlyThatContact) {
  store_->bindings().save(make_binding("10", "sip:a@10.0.0.2", 2000));
  store_->bindings().save(make_binding("10", "sip:b@10.0.0.3", 2000));
  store_->bindings().save(make_binding("11", "sip:a@10.0.0.2", 2000));
  store_->bindings().remove("10", "sip:a@10.0.0.2");
  const auto rows = store_->bindings().load_unexpired(1000);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].aor, "10");
  EXPECT_EQ(rows[0].contact, "sip:b@10.0.0.3");
  EXPECT_EQ(rows[1].aor, "11");
  EXPECT_EQ(rows[1].contact, "sip:a@10.0.0.2");
}

TEST_P(BindingRepositoryTest, RemoveAllDeletesEveryContactOfThatAorOnly) {
  store_->bindings().save(make_binding("10", "sip:a@10.0.0.2", 2000));
  store_->bindings().save(make_binding("10", "sip:b@10.0.0.3", 2000));
  store_->bindings().save(make_binding("11", "sip:c@10.0.0.4", 2000));
  store_->bindings().remove_all("10");
  const auto rows = store_->bindings().load_unexpired(1000);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].aor, "11");
}

TEST_P(BindingRepositoryTest, LoadUnexpiredDropsExpiredRowsForGood) {
  store_->bindings().save(make_binding("10", "sip:expired@10.0.0.2", 999));
  store_->bindings().save(make_binding("10", "sip:edge@10.0.0.2", 1000));  // expires_at == now: gone
  store_->bindings().save(make_binding("10", "sip:alive@10.0.0.2", 1001));
  const auto rows = store_->bindings().load_unexpired(1000);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].contact, "sip:alive@10.0.0.2");
  // Deleted, not just filtered: asking with an earlier clock does not bring them back.
  EXPECT_EQ(store_->bindings().load_unexpired(0).size(), 1u);
}

TEST_P(BindingRepositoryTest, EmptyStoreLoadsNothing) {
  EXPECT_TRUE(store_->bindings().load_unexpired(0).empty());
}

TEST(BindingRepositoryDiskTest, RowsSurviveReopen) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  {
    auto store = open_sqlite_store(path);
    store->bindings().save(make_binding("10", "sip:a@10.0.0.2", 2000));
    store->bindings().save(make_binding("11", "sip:b@10.0.0.3", 2000));
  }  // the destructor commits what is queued
  auto store = open_sqlite_store(path);
  EXPECT_EQ(store->bindings().load_unexpired(1000).size(), 2u);
}

}  // namespace
}  // namespace b2bua::storage
