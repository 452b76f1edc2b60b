#include "media/voice_player.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <vector>

#include "media/g711_codec.h"
#include "media/rtp_packet.h"

namespace b2bua::media {
namespace {

constexpr TimeNs kOrigin = 1000 * kNsPerMs;
constexpr TimeNs kPacket = VoicePlayer::kPacketTime;

AudioPtr audio_of(size_t samples, int16_t value = 1000) {
  auto a = std::make_shared<Audio>();
  a->samples.assign(samples, value);
  return a;
}

struct Sent {
  bool marker;
  uint8_t payload_type;
  uint16_t seq;
  uint32_t timestamp;
  uint32_t ssrc;
  std::vector<int16_t> pcm;
};

class VoicePlayerTest : public ::testing::Test {
 protected:
  // Every packet due at `now`, decoded.
  std::vector<Sent> take(TimeNs now, uint8_t payload_type = kPayloadPcmu) {
    std::vector<Sent> out;
    uint8_t buf[VoicePlayer::kMaxPacket];
    while (const size_t len = player_.next_packet(now, payload_type, buf)) {
      EXPECT_EQ(len, 172u);
      EXPECT_TRUE(valid_rtp(buf, len));
      Sent s{(buf[1] & 0x80) != 0, static_cast<uint8_t>(buf[1] & 0x7f), read_be16(buf + 2), read_be32(buf + 4),
             read_be32(buf + 8), std::vector<int16_t>(160)};
      g711_decode(s.payload_type, buf + 12, 160, s.pcm.data());
      out.push_back(std::move(s));
      if (out.size() > 1000) break;
    }
    player_.report_played([this](uint32_t tag) { played_.push_back(tag); });
    return out;
  }

  VoicePlayer player_{0x11223344, 65534, 0xffffff00u, kOrigin};
  std::vector<uint32_t> played_;
};

TEST_F(VoicePlayerTest, PacketsLeaveEveryTwentyMsWithConsecutiveSeqAndTimestamps) {
  const TimeNs start = kOrigin + 5 * kNsPerMs;
  player_.enqueue(audio_of(480), 7);
  EXPECT_EQ(player_.next_due(start), start);
  auto first = take(start);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(first[0].marker);
  EXPECT_EQ(first[0].payload_type, kPayloadPcmu);
  EXPECT_EQ(first[0].seq, 65534);
  EXPECT_EQ(first[0].ssrc, 0x11223344u);
  EXPECT_EQ(first[0].timestamp, 0xffffff00u + 40u);  // 5 ms after the origin
  EXPECT_TRUE(played_.empty());

  EXPECT_EQ(player_.next_due(start), start + kPacket);
  EXPECT_TRUE(take(start + kPacket - 1).empty());  // not due yet
  auto second = take(start + kPacket);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_FALSE(second[0].marker);
  EXPECT_EQ(second[0].seq, 65535);
  EXPECT_EQ(second[0].timestamp, 0xffffff00u + 200u);
  auto third = take(start + 2 * kPacket);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].seq, 0);  // wraps
  EXPECT_EQ(third[0].timestamp, static_cast<uint32_t>(0xffffff00u + 360u));
  EXPECT_EQ(played_, std::vector<uint32_t>{7});
  EXPECT_TRUE(player_.idle());
  EXPECT_EQ(player_.next_due(start + 3 * kPacket), VoicePlayer::kNever);
  EXPECT_TRUE(take(start + 10 * kPacket).empty());  // nothing queued: nothing sent
}

TEST_F(VoicePlayerTest, APauseAdvancesTheTimestampAndTheNextPromptStartsATalkSpurt) {
  player_.enqueue(audio_of(160), 1);
  auto a = take(kOrigin);
  ASSERT_EQ(a.size(), 1u);
  player_.enqueue(audio_of(160), 2);
  auto b = take(kOrigin + 1000 * kNsPerMs);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_TRUE(b[0].marker);
  EXPECT_EQ(static_cast<uint16_t>(b[0].seq - a[0].seq), 1);       // one packet later
  EXPECT_EQ(b[0].timestamp - a[0].timestamp, 8000u);              // one second later
  EXPECT_EQ(played_, (std::vector<uint32_t>{1, 2}));
}

TEST_F(VoicePlayerTest, PromptsQueuedBackToBackFormOneSpurtAndEachReportsWhenItsLastSampleLeft) {
  player_.enqueue(audio_of(100, 2000), 1);
  player_.enqueue(audio_of(100, -2000), 2);
  auto p1 = take(kOrigin);
  ASSERT_EQ(p1.size(), 1u);
  EXPECT_EQ(played_, std::vector<uint32_t>{1});
  EXPECT_NEAR(p1[0].pcm[99], 2000, 64);
  EXPECT_NEAR(p1[0].pcm[100], -2000, 64);
  auto p2 = take(kOrigin + kPacket);
  ASSERT_EQ(p2.size(), 1u);
  EXPECT_FALSE(p2[0].marker);
  EXPECT_NEAR(p2[0].pcm[39], -2000, 64);
  EXPECT_EQ(p2[0].pcm[40], 0);  // the end is padded with silence
  EXPECT_EQ(played_, (std::vector<uint32_t>{1, 2}));

  // Queued while the last packet's slot still runs: the spurt goes on, no overlap, no marker.
  player_.enqueue(audio_of(160), 3);
  EXPECT_EQ(player_.next_due(kOrigin + kPacket + 5 * kNsPerMs), kOrigin + 2 * kPacket);
  auto p3 = take(kOrigin + 2 * kPacket);
  ASSERT_EQ(p3.size(), 1u);
  EXPECT_FALSE(p3[0].marker);
  EXPECT_EQ(p3[0].timestamp - p2[0].timestamp, 160u);
}

TEST_F(VoicePlayerTest, ALateWakeUpSendsEveryPacketDueEachWithItsOwnTimestamp) {
  player_.enqueue(audio_of(800), 1);
  auto first = take(kOrigin);
  ASSERT_EQ(first.size(), 1u);
  auto late = take(kOrigin + 70 * kNsPerMs);  // slots 20, 40 and 60 ms are due
  ASSERT_EQ(late.size(), 3u);
  for (size_t i = 0; i < late.size(); ++i) {
    EXPECT_EQ(late[i].timestamp - first[0].timestamp, 160u * (i + 1));
    EXPECT_EQ(static_cast<uint16_t>(late[i].seq - first[0].seq), i + 1);
    EXPECT_FALSE(late[i].marker);
  }
  EXPECT_EQ(player_.next_due(kOrigin + 70 * kNsPerMs), kOrigin + 80 * kNsPerMs);
}

TEST_F(VoicePlayerTest, StopDropsWhatPlaysAndWhatIsQueuedReportingEachPrompt) {
  player_.enqueue(audio_of(800), 1);
  player_.enqueue(audio_of(800), 2);
  player_.enqueue(audio_of(0), 3);
  ASSERT_EQ(take(kOrigin).size(), 1u);
  player_.stop([this](uint32_t tag) { played_.push_back(tag); });
  EXPECT_EQ(played_, (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_TRUE(player_.idle());
  EXPECT_TRUE(take(kOrigin + kPacket).empty());
}

TEST_F(VoicePlayerTest, PcmaIsEncodedWithItsPayloadType) {
  auto a = std::make_shared<Audio>();
  for (int i = 0; i < 160; ++i) a->samples.push_back(static_cast<int16_t>(8000 * std::sin(i * 0.3)));
  player_.enqueue(a, 1);
  auto p = take(kOrigin, kPayloadPcma);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].payload_type, kPayloadPcma);
  for (size_t i = 0; i < 160; ++i) EXPECT_LE(std::abs(p[0].pcm[i] - a->samples[i]), 260) << i;
}

TEST_F(VoicePlayerTest, AnEmptyPromptIsReportedWithoutAPacket) {
  player_.enqueue(audio_of(0), 9);
  EXPECT_TRUE(take(kOrigin).empty());
  EXPECT_EQ(played_, std::vector<uint32_t>{9});
}

}  // namespace
}  // namespace b2bua::media
