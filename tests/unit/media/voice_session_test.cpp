#include "media/voice_session.h"

#include <gtest/gtest.h>

#include <vector>

#include "media/g711_codec.h"
#include "rtp_test_packets.h"

namespace b2bua::media {
namespace {

using test::rtp_packet;

Endpoint ep(const std::string& ip, uint16_t port) {
  Endpoint e;
  EXPECT_TRUE(Endpoint::parse(ip, port, e));
  return e;
}

struct VoiceNews : MediaEvents {
  void on_latched(SessionId, int, const Endpoint&) override {}
  void on_media_timeout(SessionId) override {}
  void on_released(SessionId, const std::array<LegStats, 2>&) override {}
  void on_one_way_audio(SessionId, int, const std::array<LegStats, 2>&) override {}
  void on_voice(SessionId, VoiceEvent event) override { news.push_back(std::move(event)); }
  std::vector<VoiceEvent> news;
};

// A session over real (ephemeral, unused) sockets: the tests drive it with chosen sources and
// times; what it sends goes to a callback.
class VoiceSessionTest : public ::testing::Test {
 protected:
  VoiceSessionTest() : session_(9, make_leg(), 0, news_) {
    tuning_.latch_holdoff = 1 * kNsPerSec;
  }
  static RelayLeg make_leg() {
    RelayLeg leg;
    std::string error;
    leg.ip = "127.0.0.1";
    leg.sockets = {UdpSocket::bind("127.0.0.1", 0, -1, error), UdpSocket::bind("127.0.0.1", 0, -1, error)};
    EXPECT_TRUE(leg.sockets[0].valid() && leg.sockets[1].valid()) << error;
    return leg;
  }
  std::optional<DropReason> packet(const Endpoint& from, const std::vector<uint8_t>& data, TimeNs now) {
    bool latched = false;
    return session_.on_packet(kRtp, from.addr, data.data(), data.size(), now, tuning_, latched);
  }
  size_t pump(TimeNs now) {
    size_t n = 0;
    session_.pump(now, [&](int, const Endpoint& to, const uint8_t*, size_t) {
      EXPECT_EQ(to, session_.leg().destination(kRtp));
      ++n;
      return true;
    });
    return n;
  }

  VoiceNews news_;
  VoiceSession session_;
  RelayTuning tuning_;
  const Endpoint phone_ = ep("192.0.2.10", 4000);
  const Endpoint stranger_ = ep("203.0.113.66", 4444);
};

TEST_F(VoiceSessionTest, ItsLegLatchesLikeARelayLeg) {
  EXPECT_EQ(packet(phone_, rtp_packet(1, 160, 5), 10), DropReason::wrong_source);  // no remote yet
  RemoteMedia r;
  r.rtp = phone_;
  session_.set_remote(r, 100);
  EXPECT_EQ(packet(stranger_, rtp_packet(1, 160, 5), 200), DropReason::wrong_source);  // hold-off
  EXPECT_FALSE(packet(phone_, rtp_packet(2, 320, 5), 300));
  EXPECT_EQ(session_.leg().destination(kRtp), phone_);
  EXPECT_EQ(packet(stranger_, rtp_packet(3, 480, 5), 2 * kNsPerSec), DropReason::wrong_source);  // strict
  const auto stats = session_.stats();
  EXPECT_EQ(stats[0].packets, 1u);
  EXPECT_EQ(stats[0].dropped_source, 3u);
  EXPECT_EQ(stats[1].packets, 0u);
}

TEST_F(VoiceSessionTest, NothingIsSentBeforeTheRemoteIsKnownNorToAPeerThatOnlySends) {
  auto audio = std::make_shared<Audio>();
  audio->samples.assign(1600, 1000);
  session_.play(audio, 3);
  EXPECT_EQ(session_.next_due(0), VoicePlayer::kNever);
  EXPECT_EQ(pump(0), 0u);
  RemoteMedia r;
  r.rtp = phone_;
  r.direction = Direction::sendonly;
  session_.set_remote(r, 10 * kNsPerMs);
  EXPECT_EQ(session_.next_due(20 * kNsPerMs), VoicePlayer::kNever);
  EXPECT_EQ(pump(20 * kNsPerMs), 0u);
  r.direction = Direction::sendrecv;
  session_.set_remote(r, 30 * kNsPerMs);
  EXPECT_EQ(session_.next_due(40 * kNsPerMs), 40 * kNsPerMs);
  EXPECT_EQ(pump(40 * kNsPerMs), 1u);
  EXPECT_EQ(pump(250 * kNsPerMs), 9u);  // late: the rest of the prompt at once
  ASSERT_EQ(news_.news.size(), 1u);
  EXPECT_EQ(news_.news[0].kind, VoiceEvent::Kind::played);
  EXPECT_EQ(news_.news[0].tag, 3u);
  EXPECT_EQ(session_.stats()[0].packets_sent, 10u);
}

TEST_F(VoiceSessionTest, OnlyTheNegotiatedCodecIsRecordedAndOnlyTheEventTypeIsAKey) {
  RemoteMedia r;
  r.rtp = phone_;
  session_.set_remote(r, 0);
  session_.set_format(VoiceFormat{kPayloadPcma, 96});
  session_.record(RecordSpec{}, 0);
  auto pcma = rtp_packet(1, 0, 5, kPayloadPcma);
  int16_t pcm[160];
  for (int i = 0; i < 160; ++i) pcm[i] = static_cast<int16_t>(i * 50);
  g711_encode(kPayloadPcma, pcm, 160, pcma.data() + 12);
  EXPECT_FALSE(packet(phone_, pcma, 10));
  EXPECT_FALSE(packet(phone_, rtp_packet(2, 160, 5, kPayloadPcmu), 20));  // not what we answered
  auto key = rtp_packet(3, 320, 5, 101, 4);
  key[12] = 1;
  EXPECT_FALSE(packet(phone_, key, 30));  // 101 is not the negotiated telephone-event type
  key[1] = 96;
  EXPECT_FALSE(packet(phone_, key, 40));
  session_.stop_recording();
  ASSERT_EQ(news_.news.size(), 2u);
  EXPECT_EQ(news_.news[0].kind, VoiceEvent::Kind::dtmf);
  EXPECT_EQ(news_.news[0].digit, '1');
  EXPECT_EQ(news_.news[1].kind, VoiceEvent::Kind::recorded);
  ASSERT_EQ(news_.news[1].recording.samples.size(), 160u);
  EXPECT_NEAR(news_.news[1].recording.samples[100], 5000, 200);
  // Not recording: stop_recording says nothing.
  session_.stop_recording();
  EXPECT_EQ(news_.news.size(), 2u);
}

}  // namespace
}  // namespace b2bua::media
