#include <gtest/gtest.h>

#include "storage/store.h"
#include "storage_test_support.h"

namespace b2bua::storage {
namespace {

using TrunkStateRepositoryTest = testing::StoreOnMemoryAndDisk;
INSTANTIATE_TEST_SUITE_P(Store, TrunkStateRepositoryTest, ::testing::Bool(), testing::memory_or_disk_name);

TrunkStateRow make_state(const std::string& trunk) {
  return TrunkStateRow{trunk, "203.0.113.7:5062", 1700003600, 200, 1700000000};
}

TEST_P(TrunkStateRepositoryTest, SaveThenLoadRoundTripsEveryField) {
  store_->trunk_states().save(make_state("provider"));
  const auto row = store_->trunk_states().load("provider");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->trunk, "provider");
  EXPECT_EQ(row->public_address, "203.0.113.7:5062");
  EXPECT_EQ(row->registered_until, 1700003600);
  EXPECT_EQ(row->last_status, 200);
  EXPECT_EQ(row->updated_at, 1700000000);
}

TEST_P(TrunkStateRepositoryTest, LoadOfUnknownTrunkIsEmpty) {
  store_->trunk_states().save(make_state("provider"));
  EXPECT_FALSE(store_->trunk_states().load("other").has_value());
}

TEST_P(TrunkStateRepositoryTest, SaveReplacesThePreviousStateOfThatTrunk) {
  store_->trunk_states().save(make_state("provider"));
  TrunkStateRow failed = make_state("provider");
  failed.public_address.clear();
  failed.registered_until = 0;
  failed.last_status = 403;
  store_->trunk_states().save(failed);
  const auto rows = store_->trunk_states().load_all();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].public_address, "");
  EXPECT_EQ(rows[0].last_status, 403);
  EXPECT_EQ(rows[0].registered_until, 0);
}

TEST_P(TrunkStateRepositoryTest, LoadAllReturnsEveryTrunkSortedByName) {
  store_->trunk_states().save(make_state("zeta"));
  store_->trunk_states().save(make_state("alpha"));
  store_->trunk_states().save(make_state("mid"));
  const auto rows = store_->trunk_states().load_all();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].trunk, "alpha");
  EXPECT_EQ(rows[1].trunk, "mid");
  EXPECT_EQ(rows[2].trunk, "zeta");
}

TEST_P(TrunkStateRepositoryTest, EmptyStoreHasNoTrunks) {
  EXPECT_TRUE(store_->trunk_states().load_all().empty());
}

}  // namespace
}  // namespace b2bua::storage
