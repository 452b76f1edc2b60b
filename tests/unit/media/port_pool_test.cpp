#include "media/port_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

namespace b2bua::media {
namespace {

// Allocates until the pool runs dry, checking each pair on the way: an even RTP port, both ports
// inside [lo, hi], none handed out twice while held. The RTP ports in the order they came.
std::vector<uint16_t> drain(PortPool& pool, uint16_t lo, uint16_t hi) {
  std::vector<uint16_t> order;
  std::set<uint16_t> held;
  while (auto p = pool.allocate(0)) {
    EXPECT_EQ(*p % 2, 0);
    EXPECT_GE(*p, lo);
    EXPECT_LE(*p + 1, hi);
    EXPECT_TRUE(held.insert(*p).second) << "port handed out twice while held: " << *p;
    order.push_back(*p);
  }
  return order;
}

TEST(PortPool, HandsOutEvenRtpPortsInsideTheRange) {
  PortPool pool(30001, 30010, 0);  // odd lower bound: first pair is 30002/30003
  const std::vector<uint16_t> order = drain(pool, 30001, 30010);
  EXPECT_EQ(std::set<uint16_t>(order.begin(), order.end()), (std::set<uint16_t>{30002, 30004, 30006, 30008}));
  EXPECT_EQ(pool.capacity(), 4u);
}

TEST(PortPool, ExhaustionIsAnEmptyResult) {
  PortPool pool(30000, 30003, 0);
  ASSERT_TRUE(pool.allocate(0));
  ASSERT_TRUE(pool.allocate(0));
  EXPECT_FALSE(pool.allocate(0));
  EXPECT_EQ(pool.in_use(), 2u);
}

TEST(PortPool, ARestingPairIsPassedOverWhileAnotherIsFree) {
  PortPool pool(30000, 30003, 10 * kNsPerSec);
  auto p = pool.allocate(0);
  ASSERT_TRUE(p);
  pool.release(*p, 5 * kNsPerSec);
  auto other = pool.allocate(14 * kNsPerSec);  // p rests until 15 s
  ASSERT_TRUE(other);
  EXPECT_NE(*other, *p);
}

TEST(PortPool, TheLongestRestingPairServesWhenNoneIsFree) {
  PortPool pool(30000, 30005, 10);
  auto a = pool.allocate(0);
  auto b = pool.allocate(0);
  auto c = pool.allocate(0);
  ASSERT_TRUE(a && b && c);
  pool.release(*b, 1);
  pool.release(*a, 5);
  EXPECT_EQ(pool.allocate(8), *b) << "a call is not refused while pairs only rest; b rested longest";
  EXPECT_EQ(pool.allocate(8), *a);
  EXPECT_FALSE(pool.allocate(8)) << "every pair in use";
}

// The WAN side is scanned all the time: the next call's ports must not follow from the last.
TEST(PortPool, PairsComeInRandomOrderWithinTheRangeAndNeverTwiceWhileHeld) {
  constexpr size_t kPairs = 500;  // 30000-30999
  PortPool pool(30000, 30999, 0);
  const std::vector<uint16_t> order = drain(pool, 30000, 30999);
  EXPECT_EQ(order.size(), kPairs) << "every pair is handed out before the pool runs dry";
  // A random order has about one step of +2 in 500; counting up from the bottom has 499.
  size_t sequential = 0;
  for (size_t i = 1; i < order.size(); ++i) sequential += order[i] == order[i - 1] + 2;
  EXPECT_LT(sequential, 20u) << "ports are handed out in sequence";
  EXPECT_GT(std::count_if(order.begin(), order.begin() + 10, [](uint16_t p) { return p >= 30100; }), 0)
      << "the first calls all got ports from the bottom of the range";

  // Another pool (another start of the daemon) does not repeat the sequence.
  PortPool other(30000, 30999, 0);
  std::vector<uint16_t> other_order;
  for (size_t i = 0; i < 20; ++i) other_order.push_back(*other.allocate(0));
  EXPECT_FALSE(std::equal(other_order.begin(), other_order.end(), order.begin()));

  // A pair given back is handed out again, and only the one given back.
  pool.release(order[7], 0);
  EXPECT_EQ(pool.allocate(0), order[7]);
  EXPECT_FALSE(pool.allocate(0));
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
