#include "media/relay_session.h"

#include <gtest/gtest.h>

#include "rtp_test_packets.h"

namespace b2bua::media {
namespace {

using test::rtcp_rr;
using test::rtp_packet;

Endpoint ep(const std::string& ip, uint16_t port) {
  Endpoint e;
  EXPECT_TRUE(Endpoint::parse(ip, port, e));
  return e;
}

RemoteMedia remote_at(const std::string& ip, uint16_t port) {
  RemoteMedia r;
  r.rtp = ep(ip, port);
  return r;
}

// A session over real (ephemeral, unused) sockets: the tests drive on_packet() directly with
// chosen sources and times, so nothing is sent.
class RelaySessionTest : public ::testing::Test {
 protected:
  RelaySessionTest() : session_(42, make_legs(), 0) {
    tuning_.timeout = 5 * kNsPerSec;
    tuning_.hold_timeout = 50 * kNsPerSec;
    tuning_.relatch_silence = 1 * kNsPerSec;
    tuning_.keepalive = 10 * kNsPerSec;
    tuning_.latch_holdoff = 1 * kNsPerSec;
  }

  static std::array<RelayLeg, 2> make_legs() {
    std::array<RelayLeg, 2> legs;
    for (auto& leg : legs) {
      std::string error;
      leg.ip = "127.0.0.1";
      leg.sockets = {UdpSocket::bind("127.0.0.1", 0, -1, error), UdpSocket::bind("127.0.0.1", 0, -1, error)};
      EXPECT_TRUE(leg.sockets[0].valid() && leg.sockets[1].valid()) << error;
    }
    return legs;
  }

  Forward packet(int leg, const Endpoint& from, const std::vector<uint8_t>& data, TimeNs now,
                 Channel ch = kRtp) {
    latched_ = false;
    return session_.on_packet(leg, ch, from.addr, data.data(), data.size(), now, tuning_, latched_);
  }

  // A phone behind a NAT that reaches us over the WAN: its SDP names its private address, which
  // the signalling plane marks as not the source to wait for.
  static RemoteMedia nat_phone(uint16_t port) {
    RemoteMedia r = remote_at("10.0.0.5", port);
    r.sdp_names_source = false;
    return r;
  }

  void both_remotes_known(TimeNs now = 0) {
    session_.set_remote(0, nat_phone(4000), now);
    session_.set_remote(1, remote_at("198.51.100.7", 30000), now);  // provider
  }

  RelaySession session_;
  RelayTuning tuning_;
  bool latched_ = false;
  const Endpoint phone_nat_ = ep("192.0.2.10", 61000);
  const Endpoint provider_ = ep("198.51.100.7", 30000);
  const Endpoint attacker_ = ep("203.0.113.66", 4444);
};

TEST_F(RelaySessionTest, PacketsBeforeTheRemoteIsKnownAreDropped) {
  const Forward f = packet(0, phone_nat_, rtp_packet(1, 160, 7), 0);
  EXPECT_LT(f.fd, 0);
  EXPECT_EQ(session_.leg(0).dropped_source, 1u);
  EXPECT_FALSE(session_.leg(0).latch[kRtp].latched);
}

TEST_F(RelaySessionTest, FirstPacketLatchesAndBothDirectionsUseTheRealSource) {
  both_remotes_known();
  Forward f = packet(0, phone_nat_, rtp_packet(1, 160, 7), kNsPerMs);
  EXPECT_TRUE(latched_);
  ASSERT_EQ(f.fd, session_.leg(1).sockets[kRtp].fd());
  EXPECT_EQ(*f.to, provider_);  // provider not latched yet: its SDP address

  f = packet(1, provider_, rtp_packet(100, 800, 9), 2 * kNsPerMs);
  ASSERT_EQ(f.fd, session_.leg(0).sockets[kRtp].fd());
  EXPECT_EQ(*f.to, phone_nat_) << "must send where the phone's packets come from, not to its SDP address";
  EXPECT_EQ(session_.stats()[0].latched, phone_nat_);
}

TEST_F(RelaySessionTest, StrictSourceAfterLatch) {
  both_remotes_known();
  packet(0, phone_nat_, rtp_packet(1, 160, 7), kNsPerMs);
  const Forward f = packet(0, attacker_, rtp_packet(2, 320, 7), 2 * kNsPerMs);
  EXPECT_LT(f.fd, 0);
  EXPECT_FALSE(latched_);
  EXPECT_EQ(session_.leg(0).dropped_source, 1u);
  EXPECT_EQ(session_.leg(0).latch[kRtp].peer, phone_nat_);
}

TEST_F(RelaySessionTest, RelatchNeedsSilenceAndTheExpectedSsrc) {
  both_remotes_known();
  const Endpoint moved = ep("192.0.2.10", 61002);  // same phone, NAT gave it a new port
  packet(0, phone_nat_, rtp_packet(1, 160, 7), 0);

  // Right SSRC but the latched peer spoke 500 ms ago: refused.
  EXPECT_LT(packet(0, moved, rtp_packet(2, 320, 7), 500 * kNsPerMs).fd, 0);
  // Silent long enough but a different SSRC: refused.
  EXPECT_LT(packet(0, moved, rtp_packet(2, 320, 8), 1500 * kNsPerMs).fd, 0);
  EXPECT_EQ(session_.leg(0).dropped_source, 2u);
  // Silent >= relatch_silence and the expected SSRC: re-latched.
  EXPECT_GE(packet(0, moved, rtp_packet(3, 480, 7), 1600 * kNsPerMs).fd, 0);
  EXPECT_TRUE(latched_);
  EXPECT_EQ(session_.leg(0).latch[kRtp].peer, moved);
  // And now the old address is the stranger.
  EXPECT_LT(packet(0, phone_nat_, rtp_packet(4, 640, 7), 1610 * kNsPerMs).fd, 0);
}

TEST_F(RelaySessionTest, RtcpCannotDefineTheRtpSsrcForRelatch) {
  both_remotes_known();
  packet(0, phone_nat_, rtp_packet(1, 160, 7), 0);
  EXPECT_LT(packet(0, attacker_, rtcp_rr(7), 5 * kNsPerSec).fd, 0);
  EXPECT_EQ(session_.leg(0).latch[kRtp].peer, phone_nat_);
}

TEST_F(RelaySessionTest, TheSdpAddressAlwaysWinsOverAnEarlyInjector) {
  session_.set_remote(0, remote_at("192.0.2.20", 5000), 0);
  session_.set_remote(1, remote_at("198.51.100.7", 30000), 0);
  packet(0, attacker_, rtp_packet(1, 160, 666), 2 * kNsPerSec);  // after the hold-off, first
  EXPECT_EQ(session_.leg(0).latch[kRtp].peer, attacker_);
  packet(0, ep("192.0.2.20", 5000), rtp_packet(1, 160, 7), 2 * kNsPerSec + kNsPerMs);
  EXPECT_TRUE(latched_);
  EXPECT_EQ(session_.leg(0).latch[kRtp].peer, ep("192.0.2.20", 5000));
}

// A scanner spraying the provider leg's (WAN) port as the call starts: within the hold-off only
// the address the provider's SDP named may latch, so the stranger never gets the call's media.
TEST_F(RelaySessionTest, StrangerBeforeThePeerDuringTheHoldOffDoesNotStealTheLatch) {
  both_remotes_known();
  for (int i = 0; i < 10; ++i) {
    const Forward f = packet(1, attacker_, rtp_packet(static_cast<uint16_t>(i), 160, 666), i * 50 * kNsPerMs);
    EXPECT_LT(f.fd, 0);
    EXPECT_EQ(f.drop, DropReason::wrong_source);
  }
  EXPECT_FALSE(session_.leg(1).latch[kRtp].latched);
  EXPECT_EQ(session_.leg(1).dropped_source, 10u);
  // The phone's media meanwhile goes to the provider's SDP address, not to the stranger.
  const Forward to_provider = packet(0, phone_nat_, rtp_packet(1, 160, 7), 600 * kNsPerMs);
  ASSERT_GE(to_provider.fd, 0);
  EXPECT_EQ(*to_provider.to, provider_);

  EXPECT_GE(packet(1, provider_, rtp_packet(1, 160, 9), 700 * kNsPerMs).fd, 0);
  EXPECT_TRUE(latched_);
  EXPECT_EQ(session_.leg(1).latch[kRtp].peer, provider_);
  // Latched: past the hold-off the stranger is still only counted.
  EXPECT_LT(packet(1, attacker_, rtp_packet(20, 160, 666), 5 * kNsPerSec).fd, 0);
  EXPECT_EQ(session_.leg(1).latch[kRtp].peer, provider_);
  EXPECT_EQ(session_.leg(1).dropped_source, 11u);
}

// Symmetric RTP must keep working for a phone whose SDP names an address it never sends from.
TEST_F(RelaySessionTest, NatedPhoneWithAPrivateSdpAddressLatchesAfterTheHoldOff) {
  // Seen on a leg where that address could be a source (a LAN leg; a second NAT in the LAN):
  // its packets wait out the hold-off, then the first one latches.
  session_.set_remote(0, remote_at("10.0.0.5", 4000), 0);
  session_.set_remote(1, remote_at("198.51.100.7", 30000), 0);
  EXPECT_LT(packet(0, phone_nat_, rtp_packet(1, 160, 7), 500 * kNsPerMs).fd, 0);
  EXPECT_FALSE(latched_);
  const Forward f = packet(0, phone_nat_, rtp_packet(2, 320, 7), 1000 * kNsPerMs);
  EXPECT_GE(f.fd, 0);
  EXPECT_TRUE(latched_);
  EXPECT_EQ(session_.leg(0).latch[kRtp].peer, phone_nat_);
  EXPECT_GE(packet(1, provider_, rtp_packet(1, 160, 9), 1010 * kNsPerMs).fd, 0);
  const Forward back = packet(1, provider_, rtp_packet(2, 320, 9), 1020 * kNsPerMs);
  ASSERT_GE(back.fd, 0);
  EXPECT_EQ(*back.to, phone_nat_);
}

TEST_F(RelaySessionTest, NatedPhoneOverTheWanLatchesAtOnce) {
  // A private address from the WAN can never be the source: nothing to wait for.
  both_remotes_known();
  EXPECT_GE(packet(0, phone_nat_, rtp_packet(1, 160, 7), kNsPerMs).fd, 0);
  EXPECT_TRUE(latched_);
}

TEST_F(RelaySessionTest, HoldOffCountsFromWhenMediaIsDue) {
  // The caller's address is known at the INVITE; media is due only once the answer came.
  session_.set_remote(0, remote_at("192.0.2.20", 5000), 0);
  EXPECT_LT(packet(0, attacker_, rtp_packet(1, 160, 666), 5 * kNsPerSec).fd, 0) << "ringing";
  session_.set_remote(1, remote_at("198.51.100.7", 30000), 10 * kNsPerSec);
  EXPECT_LT(packet(0, attacker_, rtp_packet(2, 320, 666), 10500 * kNsPerMs).fd, 0) << "just answered";
  EXPECT_FALSE(session_.leg(0).latch[kRtp].latched);
  EXPECT_GE(packet(0, phone_nat_, rtp_packet(1, 160, 7), 11 * kNsPerSec).fd, 0) << "hold-off over";
  EXPECT_EQ(session_.leg(0).latch[kRtp].peer, phone_nat_);
  // A re-INVITE that moves the SDP address starts another hold-off for that leg.
  session_.set_remote(0, remote_at("192.0.2.20", 5002), 20 * kNsPerSec);
  EXPECT_LT(packet(0, attacker_, rtp_packet(3, 480, 666), 20500 * kNsPerMs).fd, 0);
  EXPECT_GE(packet(0, ep("192.0.2.20", 5002), rtp_packet(2, 320, 7), 20600 * kNsPerMs).fd, 0);
  EXPECT_EQ(session_.leg(0).latch[kRtp].peer, ep("192.0.2.20", 5002));
}

TEST_F(RelaySessionTest, ReInviteWithANewAddressForgetsTheLatch) {
  both_remotes_known();
  packet(0, phone_nat_, rtp_packet(1, 160, 7), 0);
  session_.set_remote(0, nat_phone(4002), kNsPerMs);
  EXPECT_FALSE(session_.leg(0).latch[kRtp].latched);
  packet(0, ep("192.0.2.10", 62000), rtp_packet(1, 160, 99), 2 * kNsPerMs);
  EXPECT_TRUE(latched_);
  // Same address again (a re-INVITE that only changes direction) keeps the latch.
  RemoteMedia same = nat_phone(4002);
  same.direction = Direction::sendonly;
  session_.set_remote(0, same, 3 * kNsPerMs);
  EXPECT_TRUE(session_.leg(0).latch[kRtp].latched);
}

TEST_F(RelaySessionTest, InvalidPacketsAreCountedAndNeverForwarded) {
  both_remotes_known();
  std::vector<uint8_t> garbage = {0x01, 0x02, 0x03};
  std::vector<uint8_t> v1 = rtp_packet(1, 160, 7);
  v1[0] = 0x40;
  EXPECT_LT(packet(0, phone_nat_, garbage, 0).fd, 0);
  EXPECT_LT(packet(0, phone_nat_, v1, 0).fd, 0);
  EXPECT_LT(packet(0, phone_nat_, {}, 0).fd, 0);
  EXPECT_EQ(session_.leg(0).dropped_invalid, 3u);
  EXPECT_FALSE(session_.leg(0).latch[kRtp].latched) << "garbage must not latch";
  EXPECT_EQ(session_.leg(0).packets, 0u);
}

TEST_F(RelaySessionTest, AnyPayloadTypePassesUnchanged) {
  both_remotes_known();
  uint16_t seq = 1;
  for (uint8_t pt : {0, 8, 13, 18, 96, 101, 127}) {
    EXPECT_GE(packet(0, phone_nat_, rtp_packet(seq, seq * 160u, 7, pt, 4, pt == 101), 0).fd, 0) << int{pt};
    ++seq;
  }
  EXPECT_EQ(session_.leg(0).packets, 7u);
}

TEST_F(RelaySessionTest, RtcpUsesItsOwnPairOrTheRtpPortWithMux) {
  both_remotes_known();
  Forward f = packet(0, ep("192.0.2.10", 61001), rtcp_rr(7), 0, kRtcp);
  ASSERT_EQ(f.fd, session_.leg(1).sockets[kRtcp].fd());
  EXPECT_EQ(*f.to, ep("198.51.100.7", 30001)) << "RTCP defaults to RTP port + 1";

  RemoteMedia mux = remote_at("198.51.100.7", 30000);
  mux.rtcp_mux = true;
  session_.set_remote(1, mux, 0);
  f = packet(0, ep("192.0.2.10", 61001), rtcp_rr(7), 0, kRtcp);
  ASSERT_EQ(f.fd, session_.leg(1).sockets[kRtp].fd());
  EXPECT_EQ(*f.to, provider_);

  // Multiplexed RTCP from the provider on its RTP socket goes to the phone's RTCP pair, and
  // is not taken for an RTP packet (no effect on loss accounting).
  packet(1, provider_, rtp_packet(10, 1600, 9), 0);
  f = packet(1, provider_, rtcp_rr(9), kNsPerMs);
  ASSERT_EQ(f.fd, session_.leg(0).sockets[kRtcp].fd());
  packet(1, provider_, rtp_packet(11, 1760, 9), 2 * kNsPerMs);
  EXPECT_EQ(session_.stats()[1].lost, 0u);
  EXPECT_EQ(session_.stats()[1].packets, 3u);
}

TEST_F(RelaySessionTest, CountersPerLeg) {
  both_remotes_known();
  for (uint16_t i = 1; i <= 50; ++i) {
    if (i == 10 || i == 11) continue;  // lost
    packet(0, phone_nat_, rtp_packet(i, i * 160u, 7), i * 20 * kNsPerMs);
  }
  packet(0, phone_nat_, rtp_packet(10, 1600, 7), 51 * 20 * kNsPerMs);  // one of them, late
  packet(0, attacker_, rtp_packet(60, 1600, 7), 52 * 20 * kNsPerMs);
  session_.note_sent(1, kRtp, 49, 52 * 20 * kNsPerMs);
  const auto s = session_.stats();
  EXPECT_EQ(s[0].packets, 49u);
  EXPECT_EQ(s[0].bytes, 49u * 172u);
  EXPECT_EQ(s[0].lost, 1u);
  EXPECT_EQ(s[0].out_of_order, 1u);
  EXPECT_EQ(s[0].dropped_source, 1u);
  EXPECT_EQ(s[1].packets_sent, 49u);
  EXPECT_GT(s[0].jitter_ms, 0.0) << "the late packet's transit time differs";
}

TEST_F(RelaySessionTest, TimeoutStartsWhenBothRemotesAreKnownAndFiresOnce) {
  session_.set_remote(0, nat_phone(4000), 0);
  EXPECT_FALSE(session_.timed_out(100 * kNsPerSec, tuning_)) << "a ringing call has no media yet";
  session_.set_remote(1, remote_at("198.51.100.7", 30000), 100 * kNsPerSec);
  packet(0, phone_nat_, rtp_packet(1, 160, 7), 101 * kNsPerSec);
  EXPECT_FALSE(session_.timed_out(105 * kNsPerSec, tuning_));
  EXPECT_TRUE(session_.timed_out(106 * kNsPerSec, tuning_));
  EXPECT_FALSE(session_.timed_out(200 * kNsPerSec, tuning_)) << "reported once";
}

// One-way audio: the provider's RTP flows, the phone (which said sendrecv) sends nothing.
TEST_F(RelaySessionTest, OneWayAudioNamesTheSilentLegOnce) {
  tuning_.one_way = 3 * kNsPerSec;
  both_remotes_known();
  for (int i = 0; i <= 5; ++i) {
    packet(1, provider_, rtp_packet(static_cast<uint16_t>(i), 160u * i, 9), i * kNsPerSec);
    EXPECT_EQ(session_.one_way(i * kNsPerSec, tuning_), i < 3 ? -1 : (i == 3 ? 0 : -1))
        << "at " << i << " s: the phone's leg, once";
  }
}

TEST_F(RelaySessionTest, OneWayAudioIsNoAlarmWhenBothTalkOrTheSilentSideHolds) {
  tuning_.one_way = 3 * kNsPerSec;
  both_remotes_known();
  for (int i = 0; i <= 5; ++i) {
    packet(1, provider_, rtp_packet(static_cast<uint16_t>(i), 160u * i, 9), i * kNsPerSec);
    packet(0, phone_nat_, rtp_packet(static_cast<uint16_t>(i), 160u * i, 7), i * kNsPerSec + 1);
    EXPECT_EQ(session_.one_way(i * kNsPerSec + 2, tuning_), -1) << "both talk";
  }
  // The phone holds (sendonly) and sends nothing; the provider answered recvonly and goes on
  // sending all the same.
  RemoteMedia holding = nat_phone(4000);
  holding.direction = Direction::sendonly;
  session_.set_remote(0, holding, 6 * kNsPerSec);
  RemoteMedia held = remote_at("198.51.100.7", 30000);
  held.direction = Direction::recvonly;
  session_.set_remote(1, held, 6 * kNsPerSec);
  for (int i = 6; i <= 12; ++i) {
    packet(1, provider_, rtp_packet(static_cast<uint16_t>(i), 160u * i, 9), i * kNsPerSec);
    EXPECT_EQ(session_.one_way(i * kNsPerSec, tuning_), -1) << "a held call";
  }
}

TEST_F(RelaySessionTest, OneWayAudioWaitsForBothSidesToBeDueAndForTheOtherSideToBeHeard) {
  tuning_.one_way = 3 * kNsPerSec;
  session_.set_remote(1, remote_at("198.51.100.7", 30000), 0);
  packet(1, provider_, rtp_packet(1, 160, 9), 4 * kNsPerSec);
  EXPECT_EQ(session_.one_way(4 * kNsPerSec, tuning_), -1) << "ringing: the phone's leg has no remote yet";
  session_.set_remote(0, nat_phone(4000), 5 * kNsPerSec);
  EXPECT_EQ(session_.one_way(7 * kNsPerSec, tuning_), -1) << "media due for 2 s only";
  EXPECT_EQ(session_.one_way(9 * kNsPerSec, tuning_), -1) << "nobody heard for 3 s: silence, not one-way";
}

TEST_F(RelaySessionTest, HeldCallUsesTheHoldTimeout) {
  both_remotes_known();
  RemoteMedia held = nat_phone(4000);
  held.direction = Direction::sendonly;
  session_.set_remote(0, held, 0);
  EXPECT_FALSE(session_.timed_out(10 * kNsPerSec, tuning_));
  EXPECT_TRUE(session_.timed_out(50 * kNsPerSec, tuning_));
}

TEST_F(RelaySessionTest, KeepalivesAtOnceThenOnlyWhenIdle) {
  int sent = 0;
  auto count = [&](int, const Endpoint&, const uint8_t* data, size_t len) {
    ++sent;
    const std::vector<uint8_t> copy(data, data + len);
    RtpHeader h;
    EXPECT_NE(classify(copy.data(), copy.size(), len == 8, h), PacketKind::invalid);
  };
  session_.set_remote(1, remote_at("198.51.100.7", 30000), 0);
  session_.send_keepalives(0, tuning_, count);
  EXPECT_EQ(sent, 2) << "RTP and RTCP towards the provider as soon as its address is known";
  session_.send_keepalives(kNsPerSec, tuning_, count);
  EXPECT_EQ(sent, 2);
  session_.note_sent(1, kRtp, 1, 9 * kNsPerSec);  // media flowed on RTP, not on RTCP
  session_.send_keepalives(11 * kNsPerSec, tuning_, count);
  EXPECT_EQ(sent, 3) << "only the idle RTCP mapping needs one";
}

}  // namespace
}  // namespace b2bua::media
