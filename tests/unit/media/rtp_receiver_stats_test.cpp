#include "media/rtp_receiver_stats.h"

#include <gtest/gtest.h>

namespace b2bua::media {
namespace {

constexpr uint32_t kRate = 8000;
constexpr TimeNs k20ms = 20 * kNsPerMs;

TEST(RtpReceiverStats, InOrderStreamHasNoLossNoJitter) {
  RtpReceiverStats s;
  for (uint16_t i = 0; i < 100; ++i) s.on_packet(i, i * 160u, 7, i * k20ms, kRate);
  EXPECT_EQ(s.lost(), 0u);
  EXPECT_EQ(s.out_of_order(), 0u);
  EXPECT_LT(s.jitter_ms(kRate), 0.01);
}

TEST(RtpReceiverStats, GapsCountAsLost) {
  RtpReceiverStats s;
  for (uint16_t i = 0; i < 100; ++i) {
    if (i % 10 == 3) continue;
    s.on_packet(i, i * 160u, 7, i * k20ms, kRate);
  }
  EXPECT_EQ(s.lost(), 10u);
}

TEST(RtpReceiverStats, LateArrivalIsOutOfOrderAndNotLost) {
  RtpReceiverStats s;
  s.on_packet(1, 160, 7, 1 * k20ms, kRate);
  s.on_packet(3, 480, 7, 3 * k20ms, kRate);
  s.on_packet(2, 320, 7, 3 * k20ms + 1000, kRate);
  s.on_packet(4, 640, 7, 4 * k20ms, kRate);
  EXPECT_EQ(s.out_of_order(), 1u);
  EXPECT_EQ(s.lost(), 0u);
}

TEST(RtpReceiverStats, SequenceWrapIsNotALoss) {
  RtpReceiverStats s;
  uint16_t seq = 65530;
  for (int i = 0; i < 20; ++i, ++seq) s.on_packet(seq, static_cast<uint32_t>(i) * 160u, 7, i * k20ms, kRate);
  EXPECT_EQ(s.lost(), 0u);
  EXPECT_EQ(s.out_of_order(), 0u);
}

TEST(RtpReceiverStats, DuplicatesAreIgnored) {
  RtpReceiverStats s;
  s.on_packet(1, 160, 7, k20ms, kRate);
  s.on_packet(1, 160, 7, k20ms, kRate);
  s.on_packet(2, 320, 7, 2 * k20ms, kRate);
  EXPECT_EQ(s.lost(), 0u);
  EXPECT_EQ(s.out_of_order(), 0u);
}

TEST(RtpReceiverStats, JitterFollowsRfc3550) {
  // Arrivals alternate 10 ms early/late around the 20 ms grid: |D| = 20 ms for every pair, so
  // the A.8 estimate converges to 20 ms.
  RtpReceiverStats s;
  for (uint16_t i = 0; i < 400; ++i) {
    const TimeNs skew = (i % 2 == 0) ? 0 : 20 * kNsPerMs;
    s.on_packet(i, i * 160u, 7, i * k20ms + skew, kRate);
  }
  EXPECT_NEAR(s.jitter_ms(kRate), 20.0, 1.0);
}

TEST(RtpReceiverStats, NewSsrcRestartsSequenceKeepingEarlierLosses) {
  RtpReceiverStats s;
  s.on_packet(1, 160, 7, k20ms, kRate);
  s.on_packet(5, 800, 7, 5 * k20ms, kRate);  // 3 lost
  s.on_packet(1000, 0, 9, 6 * k20ms, kRate);  // another source: not a gap
  s.on_packet(1001, 160, 9, 7 * k20ms, kRate);
  EXPECT_EQ(s.lost(), 3u);
}

TEST(RtpReceiverStats, LargeJumpNeedsTwoPacketsToResync) {
  RtpReceiverStats s;
  s.on_packet(1, 160, 7, k20ms, kRate);
  s.on_packet(2, 320, 7, 2 * k20ms, kRate);
  s.on_packet(30000, 0, 7, 3 * k20ms, kRate);  // ignored once
  s.on_packet(30001, 160, 7, 4 * k20ms, kRate);  // confirmed: restart, no huge "loss"
  s.on_packet(30002, 320, 7, 5 * k20ms, kRate);
  EXPECT_LT(s.lost(), 3u);
}

}  // namespace
}  // namespace b2bua::media
