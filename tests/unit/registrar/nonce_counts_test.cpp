#include "b2bua/registrar/nonce_counts.h"

#include <gtest/gtest.h>

namespace b2bua::registrar {
namespace {

constexpr int64_t kNow = 1'700'000'000, kLife = 300;
constexpr uint64_t kBase = 0xfffffff000000000ull;  // counters start anywhere

TEST(NonceCounts, CountMustRise) {
  NonceCounts t;
  EXPECT_TRUE(t.accept(kBase, kNow, 1, kNow, kLife, 64));
  EXPECT_FALSE(t.accept(kBase, kNow, 1, kNow, kLife, 64));
  EXPECT_TRUE(t.accept(kBase, kNow, 2, kNow, kLife, 64));
  EXPECT_FALSE(t.accept(kBase, kNow, 2, kNow, kLife, 64));
}

TEST(NonceCounts, GrowsToHoldEveryLiveNonce) {
  NonceCounts t;
  for (uint64_t i = 0; i < 5000; ++i) ASSERT_TRUE(t.accept(kBase + i, kNow, 1, kNow, kLife, 65536));
  EXPECT_GE(t.slots(), 5000u);
  for (uint64_t i = 0; i < 5000; ++i) ASSERT_FALSE(t.accept(kBase + i, kNow, 1, kNow, kLife, 65536)) << i;
  for (uint64_t i = 0; i < 5000; ++i) ASSERT_TRUE(t.accept(kBase + i, kNow, 2, kNow, kLife, 65536)) << i;
}

TEST(NonceCounts, DeadNoncesMakeRoomWithoutGrowing) {
  NonceCounts t;
  for (uint64_t i = 0; i < 200; ++i) ASSERT_TRUE(t.accept(kBase + i, kNow, 1, kNow, kLife, 65536));
  size_t before = t.slots();
  // A day of nonces, each used once a second later: the table never outgrows the live window.
  for (uint64_t i = 200; i < 20000; ++i) {
    int64_t at = kNow + static_cast<int64_t>(i);
    ASSERT_TRUE(t.accept(kBase + i, at, 1, at + 1, kLife, 65536)) << i;
  }
  EXPECT_LE(t.slots(), 1024u);
  EXPECT_GE(t.slots(), before);
}

TEST(NonceCounts, AtTheLimitTheOlderNonceIsRefusedNotReopened) {
  NonceCounts t;
  EXPECT_TRUE(t.accept(kBase + 1, kNow, 1, kNow, kLife, 2));
  EXPECT_TRUE(t.accept(kBase + 2, kNow, 1, kNow, kLife, 2));
  EXPECT_TRUE(t.accept(kBase + 3, kNow, 1, kNow, kLife, 2));  // takes the slot of +1
  EXPECT_EQ(t.slots(), 2u);
  EXPECT_FALSE(t.accept(kBase + 1, kNow, 1, kNow, kLife, 2));
  EXPECT_FALSE(t.accept(kBase + 1, kNow, 7, kNow, kLife, 2));
  EXPECT_FALSE(t.accept(kBase + 3, kNow, 1, kNow, kLife, 2));
  EXPECT_TRUE(t.accept(kBase + 3, kNow, 2, kNow, kLife, 2));
}

TEST(NonceCounts, ALimitThatIsNoDoublingKeepsTheHigherCounter) {
  NonceCounts t;
  for (uint64_t i = 0; i < 256; ++i) ASSERT_TRUE(t.accept(kBase + i, kNow, 1, kNow, kLife, 300));
  ASSERT_TRUE(t.accept(kBase + 256, kNow, 1, kNow, kLife, 300));  // grows to 300: slots collide
  EXPECT_EQ(t.slots(), 300u);
  // Whatever was dropped in the cut is refused; nothing already seen is accepted again.
  for (uint64_t i = 0; i <= 256; ++i) ASSERT_FALSE(t.accept(kBase + i, kNow, 1, kNow, kLife, 300)) << i;
}

}  // namespace
}  // namespace b2bua::registrar
