// Two UDP endpoints talk RTP through a relay session on loopback, as a phone and a provider
// would; a third party tries to inject; the phone's NAT changes its port.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "media/media_plane.h"
#include "media_test_support.h"
#include "rtp_test_packets.h"

namespace b2bua::media {
namespace {

using namespace std::chrono_literals;
using test::MediaEvent;
using test::Peer;
using test::QueuedEvents;
using test::relay_rtp;
using test::remote_of;
using test::rtcp_rr;
using test::rtp_packet;

constexpr int kRelatchSilenceMs = 1000;  // wide margin: "at once" must stay under it on a loaded machine

class RelayLoopback : public ::testing::Test {
 protected:
  void start(uint16_t first_port) {
    MediaSettings s;
    s.port_min = first_port;
    s.port_max = static_cast<uint16_t>(first_port + 99);
    s.workers = 2;
    s.quarantine_s = 0;
    s.relatch_silence_ms = kRelatchSilenceMs;
    plane_ = start_media_plane(s, events_);
    auto r = plane_->allocate(LegSpec{"127.0.0.1"}, LegSpec{"127.0.0.1"});
    ASSERT_TRUE(std::holds_alternative<Allocation>(r));
    a_ = std::get<Allocation>(r);
    RemoteMedia provider = remote_of(provider_);
    provider.rtcp = provider_rtcp_.address();
    RemoteMedia phone = remote_of(phone_);
    phone.rtcp = phone_rtcp_.address();
    plane_->set_remote(a_.id, 0, phone);
    plane_->set_remote(a_.id, 1, provider);
    stats();  // both remotes applied
    // Keep-alives went out to both peers at once (RFC 6263); take them off the sockets.
    provider_.count_media(50);
    phone_.count_media(50);
    provider_rtcp_.count_media(50);
    phone_rtcp_.count_media(50);
  }

  std::array<LegStats, 2> stats() {
    std::promise<std::array<LegStats, 2>> p;
    plane_->query(a_.id, [](void* ctx, SessionId, const std::array<LegStats, 2>& s) {
      static_cast<std::promise<std::array<LegStats, 2>>*>(ctx)->set_value(s);
    }, &p);
    auto f = p.get_future();
    EXPECT_EQ(f.wait_for(5s), std::future_status::ready);
    return f.get();
  }

  // Sends `n` packets of `ssrc` from `from` to the relay's leg `leg`, 2 ms apart.
  void stream(const Peer& from, int leg, uint32_t ssrc, uint16_t first_seq, uint16_t n) {
    for (uint16_t i = 0; i < n; ++i) {
      const auto seq = static_cast<uint16_t>(first_seq + i);
      from.send_to(relay_rtp(a_.legs[static_cast<size_t>(leg)]), rtp_packet(seq, seq * 160u, ssrc));
      std::this_thread::sleep_for(2ms);
    }
  }

  QueuedEvents events_;
  std::unique_ptr<MediaPlane> plane_;
  Allocation a_;
  Peer phone_, phone_rtcp_, provider_, provider_rtcp_;
};

TEST_F(RelayLoopback, BothDirectionsArriveUnchangedFromTheRelayPorts) {
  start(31000);
  const auto sent = rtp_packet(7, 1120, 0x1234, 101, 4, true);  // a telephone-event, marker set
  phone_.send_to(relay_rtp(a_.legs[0]), sent);
  Endpoint from;
  auto got = provider_.receive(1000, &from);
  EXPECT_EQ(got, sent) << "the relay must not touch the packet";
  EXPECT_EQ(from.port(), a_.legs[1].rtp_port);

  stream(phone_, 0, 0x1234, 8, 50);
  stream(provider_, 1, 0x9999, 1, 50);
  EXPECT_EQ(provider_.count_media(300, 50), 50u);
  EXPECT_EQ(phone_.count_media(300, 50), 50u);

  auto s = stats();
  EXPECT_EQ(s[0].packets, 51u);
  EXPECT_EQ(s[1].packets, 50u);
  EXPECT_EQ(s[0].lost, 0u);
  EXPECT_EQ(s[0].latched, phone_.address());
  EXPECT_EQ(s[1].latched, provider_.address());
}

TEST_F(RelayLoopback, RtcpTravelsOnItsOwnPair) {
  start(31100);
  Endpoint relay_rtcp;
  Endpoint::parse("127.0.0.1", a_.legs[0].rtcp_port, relay_rtcp);
  phone_rtcp_.send_to(relay_rtcp, rtcp_rr(0x1234));
  Endpoint from;
  auto got = provider_rtcp_.receive(1000, &from);
  EXPECT_EQ(got, rtcp_rr(0x1234));
  EXPECT_EQ(from.port(), a_.legs[1].rtcp_port);
}

TEST_F(RelayLoopback, ThirdSourceIsDroppedAndCounted) {
  start(31200);
  stream(phone_, 0, 0x1234, 1, 5);
  EXPECT_EQ(provider_.count_media(300, 5), 5u);
  Peer intruder;
  for (uint16_t i = 0; i < 20; ++i) intruder.send_to(relay_rtp(a_.legs[0]), rtp_packet(i, i * 160u, 0x6666));
  EXPECT_EQ(provider_.count_media(200), 0u) << "injected packets reached the provider";
  auto s = stats();
  EXPECT_EQ(s[0].dropped_source, 20u);
  EXPECT_EQ(s[0].latched, phone_.address());
}

TEST_F(RelayLoopback, PortChangeIsRelatchedOnlyBySilenceAndSsrc) {
  start(31300);
  stream(phone_, 0, 0x1234, 1, 10);
  stream(provider_, 1, 0x9999, 1, 10);
  EXPECT_EQ(phone_.count_media(300, 10), 10u);
  provider_.count_media(100);

  Peer moved;  // the phone's NAT gave it a new port
  // At once, same SSRC: the old port spoke just now, so this is not yet believed.
  stream(moved, 0, 0x1234, 11, 5);
  EXPECT_EQ(provider_.count_media(100), 0u);
  // After the silence, a different SSRC is still refused.
  std::this_thread::sleep_for(std::chrono::milliseconds(kRelatchSilenceMs + 100));
  stream(moved, 0, 0x7777, 1, 5);
  EXPECT_EQ(provider_.count_media(100), 0u);
  // After the silence with the phone's SSRC: re-latched, both directions follow the new port.
  stream(moved, 0, 0x1234, 16, 5);
  EXPECT_EQ(provider_.count_media(300, 5), 5u);
  ASSERT_TRUE(events_.wait_for([&](const MediaEvent& e) {
    return e.kind == MediaEvent::latched && e.leg == 0 && e.peer == moved.address();
  }, 2s));
  stream(provider_, 1, 0x9999, 11, 5);
  EXPECT_EQ(moved.count_media(300, 5), 5u);
  EXPECT_EQ(phone_.count_media(100), 0u) << "the old port must not get media any more";
  auto s = stats();
  EXPECT_EQ(s[0].dropped_source, 10u);
  EXPECT_EQ(s[0].latched, moved.address());
}

}  // namespace
}  // namespace b2bua::media
