#include "media/port_pool.h"

#include <gtest/gtest.h>

#include <set>

namespace b2bua::media {
namespace {

TEST(PortPool, HandsOutEvenRtpPortsInsideTheRange) {
  PortPool pool(30001, 30010, 0);  // odd lower bound: first pair is 30002/30003
  std::set<uint16_t> seen;
  while (auto p = pool.allocate(0)) {
    EXPECT_EQ(*p % 2, 0);
    EXPECT_GE(*p, 30002);
    EXPECT_LE(*p + 1, 30010);
    EXPECT_TRUE(seen.insert(*p).second) << "port handed out twice: " << *p;
  }
  EXPECT_EQ(seen, (std::set<uint16_t>{30002, 30004, 30006, 30008}));
  EXPECT_EQ(pool.capacity(), 4u);
}

TEST(PortPool, ExhaustionIsAnEmptyResult) {
  PortPool pool(30000, 30003, 0);
  ASSERT_TRUE(pool.allocate(0));
  ASSERT_TRUE(pool.allocate(0));
  EXPECT_FALSE(pool.allocate(0));
  EXPECT_EQ(pool.in_use(), 2u);
}

TEST(PortPool, ReleasedPairWaitsForItsQuarantine) {
  PortPool pool(30000, 30001, 10 * kNsPerSec);
  auto p = pool.allocate(0);
  ASSERT_TRUE(p);
  pool.release(*p, 5 * kNsPerSec);
  EXPECT_FALSE(pool.allocate(14 * kNsPerSec));  // released at 5 s, free at 15 s
  auto again = pool.allocate(15 * kNsPerSec);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *p);
}

TEST(PortPool, ReusesTheLongestReleasedPairFirst) {
  PortPool pool(30000, 30005, 0);
  auto a = pool.allocate(0);
  auto b = pool.allocate(0);
  auto c = pool.allocate(0);
  ASSERT_TRUE(a && b && c);
  pool.release(*b, 1);
  pool.release(*a, 2);
  EXPECT_EQ(pool.allocate(3), *b);
  EXPECT_EQ(pool.allocate(3), *a);
}

TEST(PortPool, DoubleReleaseIsIgnored) {
  PortPool pool(30000, 30003, 0);
  auto a = pool.allocate(0);
  ASSERT_TRUE(a);
  pool.release(*a, 0);
  pool.release(*a, 0);
  ASSERT_TRUE(pool.allocate(0));
  ASSERT_TRUE(pool.allocate(0));
  EXPECT_FALSE(pool.allocate(0)) << "a doubly released pair must not be handed out twice";
}

TEST(PortPool, ReconfigureKeepsPairsInUseAndDropsThemOutsideTheNewRange) {
  PortPool pool(30000, 30003, 0);
  auto a = pool.allocate(0);
  ASSERT_TRUE(a);
  pool.reconfigure(30100, 30103, 0);
  EXPECT_EQ(pool.in_use(), 1u);
  pool.release(*a, 0);  // outside the new range: forgotten
  std::set<uint16_t> seen;
  while (auto p = pool.allocate(0)) seen.insert(*p);
  EXPECT_EQ(seen, (std::set<uint16_t>{30100, 30102}));
}

TEST(PortPool, EmptyRangeHasNoCapacity) {
  PortPool pool(30001, 30001, 0);
  EXPECT_EQ(pool.capacity(), 0u);
  EXPECT_FALSE(pool.allocate(0));
}

}  // namespace
}  // namespace b2bua::media
