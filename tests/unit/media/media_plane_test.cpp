#include "media/media_plane.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include "media/udp_socket.h"
#include "media_test_support.h"
#include "plane_test_support.h"
#include "rtp_test_packets.h"

namespace b2bua::media {
namespace {

using namespace std::chrono_literals;
using namespace test;

MediaSettings settings_for(uint16_t first_port, uint16_t last_port) {
  MediaSettings s = plane_settings(first_port, last_port);
  s.dscp = 46;
  return s;
}

const LegSpec kLoopback{"127.0.0.1"};

Allocation must_allocate(MediaPlane& plane) { return allocated(plane.allocate(kLoopback, kLoopback)); }

// Drops leave no trace at the peers: waits (bounded) until `reached` holds, so the exact
// figures can be checked afterwards.
RelayTotals totals_once(MediaPlane& plane, const std::function<bool(const RelayTotals&)>& reached) {
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  RelayTotals t = plane.totals();
  while (!reached(t) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
    t = plane.totals();
  }
  return t;
}

void expect_flow(const RelayTotals& t, Side from, Side to, uint64_t packets, uint64_t bytes) {
  EXPECT_EQ(t.flow(from, to).packets, packets) << side_name(from) << "_to_" << side_name(to);
  EXPECT_EQ(t.flow(from, to).bytes, bytes) << side_name(from) << "_to_" << side_name(to);
}

TEST(MediaPlane, AllocateGivesEachLegAnEvenRtpAndTheNextOddRtcpPort) {
  QueuedEvents events;
  auto plane = start_media_plane(settings_for(30000, 30099), events);
  const Allocation a = must_allocate(*plane);
  for (const auto& leg : a.legs) {
    EXPECT_EQ(leg.ip, "127.0.0.1");
    EXPECT_EQ(leg.rtp_port % 2, 0);
    EXPECT_EQ(leg.rtcp_port, leg.rtp_port + 1);
    EXPECT_GE(leg.rtp_port, 30000);
    EXPECT_LE(leg.rtcp_port, 30099);
  }
  EXPECT_NE(a.legs[0].rtp_port, a.legs[1].rtp_port);
}

TEST(MediaPlane, ExhaustedPoolIsAnAllocationErrorAndReleaseRefillsIt) {
  QueuedEvents events;
  auto plane = start_media_plane(settings_for(30100, 30107), events);  // 4 pairs: 2 sessions
  const Allocation a = must_allocate(*plane);
  must_allocate(*plane);
  auto third = plane->allocate(kLoopback, kLoopback);
  ASSERT_TRUE(std::holds_alternative<AllocationError>(third));
  EXPECT_NE(std::get<AllocationError>(third).reason.find("exhausted"), std::string::npos);
  plane->release(a.id);
  ASSERT_TRUE(events.wait_for([&](const MediaEvent& e) { return e.kind == MediaEvent::released && e.id == a.id; }, 5s));
  EXPECT_TRUE(std::holds_alternative<Allocation>(plane->allocate(kLoopback, kLoopback)));
}

TEST(MediaPlane, UnusableBindAddressIsAnAllocationError) {
  QueuedEvents events;
  auto plane = start_media_plane(settings_for(30150, 30153), events);  // 2 pairs: 1 session
  auto r = plane->allocate(LegSpec{"127.0.0.1"}, LegSpec{"192.0.2.1"});  // not ours
  ASSERT_TRUE(std::holds_alternative<AllocationError>(r));
  EXPECT_NE(std::get<AllocationError>(r).reason.find("192.0.2.1"), std::string::npos);
  auto bad = plane->allocate(LegSpec{"not-an-ip"}, kLoopback);
  ASSERT_TRUE(std::holds_alternative<AllocationError>(bad));
  // The failed attempts gave their ports back.
  EXPECT_TRUE(std::holds_alternative<Allocation>(plane->allocate(kLoopback, kLoopback)));
}

TEST(MediaPlane, PoolReportCountsFailuresAndFreePortsAnotherProgramHolds) {
  QueuedEvents events;
  auto plane = start_media_plane(settings_for(30180, 30183), events);  // 2 pairs: 1 session
  RelayTotals idle = plane->totals();
  EXPECT_EQ(idle.pool.capacity, 2u);
  EXPECT_EQ(idle.pool.probed, 2u);
  EXPECT_TRUE(idle.pool.busy.empty());
  {
    // Another program on the RTCP port of the first pair.
    std::string error;
    UdpSocket other = UdpSocket::bind("127.0.0.1", 30181, -1, error);
    ASSERT_TRUE(other.valid()) << error;
    RelayTotals held = plane->totals();
    ASSERT_EQ(held.pool.busy.size(), 1u);
    EXPECT_EQ(held.pool.busy[0], 30180);
    auto r = plane->allocate(kLoopback, kLoopback);
    ASSERT_TRUE(std::holds_alternative<AllocationError>(r)) << "one pair left for two legs";
    RelayTotals after = plane->totals();
    EXPECT_EQ(after.pool.allocation_failures, 1u);
    EXPECT_GE(after.pool.taken_elsewhere, 1u);
    EXPECT_NE(after.pool.last_failure.find("exhausted"), std::string::npos) << after.pool.last_failure;
    EXPECT_GT(after.pool.last_failure_at, 1'700'000'000);
    EXPECT_EQ(after.pool.in_use, 0u) << "the failed attempt gave its ports back";
  }
  const Allocation a = must_allocate(*plane);
  RelayTotals busy = plane->totals();
  EXPECT_EQ(busy.pool.in_use, 2u);
  EXPECT_EQ(busy.pool.probed, 0u) << "the daemon's own ports are never probed";
  plane->release(a.id);
}

TEST(MediaPlane, RelaysBothWaysAndReportsLatching) {
  QueuedEvents events;
  auto plane = start_media_plane(settings_for(30200, 30299), events);
  const Allocation a = must_allocate(*plane);
  Peer phone, provider;
  plane->set_remote(a.id, 0, remote_of(phone));
  plane->set_remote(a.id, 1, remote_of(provider));
  query_now(*plane, a.id);  // commands are ordered: both remotes are in place now

  for (uint16_t i = 0; i < 10; ++i) phone.send_to(relay_rtp(a.legs[0]), rtp_packet(i, i * 160u, 1));
  for (uint16_t i = 0; i < 10; ++i) provider.send_to(relay_rtp(a.legs[1]), rtp_packet(i, i * 160u, 2));
  EXPECT_EQ(provider.count_media(300), 10u);
  EXPECT_EQ(phone.count_media(300), 10u);

  ASSERT_TRUE(events.wait_for([&](const MediaEvent& e) { return e.kind == MediaEvent::latched && e.leg == 0; }, 2s));
  ASSERT_TRUE(events.wait_for([&](const MediaEvent& e) { return e.kind == MediaEvent::latched && e.leg == 1; }, 2s));
  const auto stats = query_now(*plane, a.id);
  EXPECT_EQ(stats[0].packets, 10u);
  EXPECT_EQ(stats[1].packets, 10u);
  EXPECT_EQ(stats[0].packets_sent, 10u);
  EXPECT_EQ(stats[0].latched, phone.address());

  plane->release(a.id);
  ASSERT_TRUE(events.wait_for([&](const MediaEvent& e) { return e.kind == MediaEvent::released; }, 2s));
}

TEST(MediaPlane, FirstPacketTowardsTheRemoteLeavesAsSoonAsItIsKnown) {
  QueuedEvents events;
  auto plane = start_media_plane(settings_for(30300, 30399), events);
  const Allocation a = must_allocate(*plane);
  Peer provider;
  plane->set_remote(a.id, 1, remote_of(provider));
  Endpoint from;
  const auto first = provider.receive(2000, &from);
  ASSERT_GE(first.size(), 12u) << "no keep-alive towards the provider (RFC 6263)";
  EXPECT_EQ(from.port(), a.legs[1].rtp_port) << "must come from the relay's own port to open our NAT";
}

TEST(MediaPlane, MediaTimeoutReachesTheSignallingSide) {
  QueuedEvents events;
  MediaSettings s = settings_for(30400, 30499);
  s.timeout_s = 1;
  auto plane = start_media_plane(s, events);
  const Allocation a = must_allocate(*plane);
  Peer phone, provider;
  plane->set_remote(a.id, 0, remote_of(phone));
  plane->set_remote(a.id, 1, remote_of(provider));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(events.wait_for([&](const MediaEvent& e) { return e.kind == MediaEvent::timeout && e.id == a.id; }, 3s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
}

TEST(MediaPlane, StopReleasesOpenSessionsWithTheirCounters) {
  QueuedEvents events;
  auto plane = start_media_plane(settings_for(30500, 30599), events);
  const Allocation a = must_allocate(*plane);
  const Allocation b = must_allocate(*plane);
  plane->stop();
  events.wait_for([](const MediaEvent&) { return false; }, 50ms);  // collect what is queued
  int released = 0;
  for (const auto& e : events.seen) released += e.kind == MediaEvent::released && (e.id == a.id || e.id == b.id);
  EXPECT_EQ(released, 2);
  EXPECT_TRUE(std::holds_alternative<AllocationError>(plane->allocate(kLoopback, kLoopback)));
}

TEST(MediaPlane, TotalsCountRelayedPacketsPerDirection) {
  QueuedEvents events;
  auto plane = start_media_plane(settings_for(30108, 30127), events);  // 2 workers
  // An outbound call (leg 0 on the LAN) and an inbound one (leg 0 on the WAN): the direction
  // comes from the sides, not from the leg index. Consecutive sessions go to different workers.
  const LegSpec lan{"127.0.0.1", Side::lan}, wan{"127.0.0.1", Side::wan};
  auto r1 = plane->allocate(lan, wan);
  auto r2 = plane->allocate(wan, lan);
  ASSERT_TRUE(std::holds_alternative<Allocation>(r1) && std::holds_alternative<Allocation>(r2));
  const Allocation out = std::get<Allocation>(r1), in = std::get<Allocation>(r2);
  ASSERT_NE(out.id & 0xff, in.id & 0xff) << "both workers take part";
  Peer out_phone, out_provider, in_provider, in_phone;
  plane->set_remote(out.id, 0, remote_of(out_phone));
  plane->set_remote(out.id, 1, remote_of(out_provider));
  plane->set_remote(in.id, 0, remote_of(in_provider));
  plane->set_remote(in.id, 1, remote_of(in_phone));
  query_now(*plane, out.id);
  query_now(*plane, in.id);
  RelayTotals before = plane->totals();
  expect_flow(before, Side::lan, Side::wan, 0, 0);  // keep-alives are ours, not relayed
  EXPECT_EQ(before.sessions, 2u);

  for (uint16_t i = 0; i < 10; ++i) out_phone.send_to(relay_rtp(out.legs[0]), rtp_packet(i, i * 160u, 1, 0, 160));
  for (uint16_t i = 0; i < 3; ++i) out_provider.send_to(relay_rtp(out.legs[1]), rtp_packet(i, i * 160u, 2, 0, 20));
  for (uint16_t i = 0; i < 5; ++i) in_provider.send_to(relay_rtp(in.legs[0]), rtp_packet(i, i * 160u, 3, 0, 80));
  for (uint16_t i = 0; i < 2; ++i) in_phone.send_to(relay_rtp(in.legs[1]), rtp_packet(i, i * 160u, 4, 0, 160));
  EXPECT_EQ(out_provider.count_media(1000, 10), 10u);
  EXPECT_EQ(out_phone.count_media(1000, 3), 3u);
  EXPECT_EQ(in_phone.count_media(1000, 5), 5u);
  EXPECT_EQ(in_provider.count_media(1000, 2), 2u);
  // A worker adds to its totals right after sending, before it takes the next command: once the
  // queries come back, every packet the peers got is in.
  query_now(*plane, out.id);
  query_now(*plane, in.id);

  const RelayTotals t = plane->totals();
  expect_flow(t, Side::lan, Side::wan, 10 + 2, 10 * 172 + 2 * 172);
  expect_flow(t, Side::wan, Side::lan, 3 + 5, 3 * 32 + 5 * 92);
  expect_flow(t, Side::lan, Side::lan, 0, 0);
  expect_flow(t, Side::wan, Side::wan, 0, 0);
  for (size_t r = 0; r < kDropReasons; ++r) EXPECT_EQ(t.dropped[r], 0u) << drop_reason_name(static_cast<DropReason>(r));
  EXPECT_EQ(t.sessions, 2u);

  plane->release(out.id);
  plane->release(in.id);
  ASSERT_TRUE(events.wait_for([&](const MediaEvent& e) { return e.kind == MediaEvent::released && e.id == out.id; }, 2s));
  ASSERT_TRUE(events.wait_for([&](const MediaEvent& e) { return e.kind == MediaEvent::released && e.id == in.id; }, 2s));
  const RelayTotals after = plane->totals();
  EXPECT_EQ(after.sessions, 0u);
  EXPECT_EQ(after.flow(Side::lan, Side::wan).packets, 12u) << "totals outlive their sessions";
  plane->stop();
  EXPECT_EQ(plane->totals().flow(Side::wan, Side::lan).bytes, 3u * 32 + 5u * 92) << "and the plane";
}

TEST(MediaPlane, TotalsCountDropsByReason) {
  QueuedEvents events;
  auto plane = start_media_plane(settings_for(30128, 30147), events);
  auto r = plane->allocate(LegSpec{"127.0.0.1", Side::lan}, LegSpec{"127.0.0.1", Side::wan});
  ASSERT_TRUE(std::holds_alternative<Allocation>(r));
  const Allocation a = std::get<Allocation>(r);
  Peer phone, provider, intruder;
  plane->set_remote(a.id, 0, remote_of(phone));
  query_now(*plane, a.id);
  auto drops = [&](DropReason reason, uint64_t n) {
    return totals_once(*plane, [=](const RelayTotals& t) { return t.drops(reason) >= n; });
  };

  // The phone's media is accepted (and latches), but the provider has not answered yet.
  for (uint16_t i = 0; i < 2; ++i) phone.send_to(relay_rtp(a.legs[0]), rtp_packet(i, i * 160u, 1));
  drops(DropReason::no_destination, 2);
  // Someone else on the latched leg, and anyone on the leg that has no remote yet.
  for (uint16_t i = 0; i < 3; ++i) intruder.send_to(relay_rtp(a.legs[0]), rtp_packet(i, i * 160u, 9));
  provider.send_to(relay_rtp(a.legs[1]), rtp_packet(0, 0, 2));
  drops(DropReason::wrong_source, 4);
  // Not RTP, and a datagram too big for the relay's buffers (truncated), even from the peer.
  for (int i = 0; i < 3; ++i) phone.send_to(relay_rtp(a.legs[0]), {'h', 'e', 'l', 'l', 'o'});
  phone.send_to(relay_rtp(a.legs[0]), rtp_packet(2, 320, 1, 0, 3000));
  drops(DropReason::malformed, 4);
  // A destination the kernel refuses to send to (port 0): the relay tried and failed.
  RemoteMedia refused;
  Endpoint::parse("127.0.0.1", 0, refused.rtp);
  plane->set_remote(a.id, 1, refused);
  query_now(*plane, a.id);
  for (uint16_t i = 3; i < 8; ++i) phone.send_to(relay_rtp(a.legs[0]), rtp_packet(i, i * 160u, 1));
  drops(DropReason::send_failed, 5);

  const RelayTotals t = plane->totals();
  EXPECT_EQ(t.drops(DropReason::no_destination), 2u);
  EXPECT_EQ(t.drops(DropReason::wrong_source), 4u);
  EXPECT_EQ(t.drops(DropReason::malformed), 4u);
  EXPECT_EQ(t.drops(DropReason::send_failed), 5u);
  for (Side from : {Side::lan, Side::wan}) {
    for (Side to : {Side::lan, Side::wan}) expect_flow(t, from, to, 0, 0);
  }
  // The leg's own counters tell the same story.
  const auto stats = query_now(*plane, a.id);
  EXPECT_EQ(stats[0].dropped_source, 3u);
  EXPECT_EQ(stats[1].dropped_source, 1u);
  EXPECT_EQ(stats[0].dropped_invalid, 4u);
  EXPECT_EQ(stats[0].packets, 2u + 5u);
}

// The hold-off end to end: a stranger first on the provider's (WAN) port gets nothing and does
// not latch; a phone whose SDP address is not where it sends from latches once it is over.
TEST(MediaPlane, LatchHoldOffKeepsStrangersOutAndLetsANatedPhoneIn) {
  QueuedEvents events;
  MediaSettings settings = settings_for(30160, 30179);
  settings.latch_holdoff_ms = 500;
  auto plane = start_media_plane(settings, events);
  auto r = plane->allocate(LegSpec{"127.0.0.1", Side::lan}, LegSpec{"127.0.0.1", Side::wan});
  ASSERT_TRUE(std::holds_alternative<Allocation>(r));
  const Allocation a = std::get<Allocation>(r);
  Peer phone_sdp, phone_nat, provider, stranger;  // phone_sdp never sends: a NAT is in between
  plane->set_remote(a.id, 0, remote_of(phone_sdp));
  plane->set_remote(a.id, 1, remote_of(provider));
  query_now(*plane, a.id);

  for (uint16_t i = 0; i < 3; ++i) stranger.send_to(relay_rtp(a.legs[1]), rtp_packet(i, i * 160u, 66));
  phone_nat.send_to(relay_rtp(a.legs[0]), rtp_packet(0, 0, 1));
  totals_once(*plane, [](const RelayTotals& t) { return t.drops(DropReason::wrong_source) >= 4; });
  provider.send_to(relay_rtp(a.legs[1]), rtp_packet(0, 0, 2));
  ASSERT_TRUE(events.wait_for([&](const MediaEvent& e) { return e.kind == MediaEvent::latched && e.leg == 1; }, 2s));
  EXPECT_EQ(stranger.count_media(100), 0u);

  std::this_thread::sleep_for(600ms);  // the hold-off is over: the first source now latches
  phone_nat.send_to(relay_rtp(a.legs[0]), rtp_packet(1, 160, 1));
  ASSERT_TRUE(events.wait_for([&](const MediaEvent& e) { return e.kind == MediaEvent::latched && e.leg == 0; }, 2s));
  EXPECT_EQ(provider.count_media(500, 1), 1u);
  for (uint16_t i = 3; i < 6; ++i) stranger.send_to(relay_rtp(a.legs[1]), rtp_packet(i, i * 160u, 66));
  totals_once(*plane, [](const RelayTotals& t) { return t.drops(DropReason::wrong_source) >= 7; });

  const auto stats = query_now(*plane, a.id);
  EXPECT_EQ(stats[0].latched, phone_nat.address());
  EXPECT_EQ(stats[1].latched, provider.address());
  EXPECT_EQ(stats[1].dropped_source, 6u);
  EXPECT_EQ(stats[0].dropped_source, 1u);
  EXPECT_EQ(plane->totals().drops(DropReason::wrong_source), 7u);
}

TEST(LegStats, AddSumsCountersKeepsTheWorstJitterAndTheFirstLatchedPeer) {
  Endpoint first, second;
  Endpoint::parse("127.0.0.1", 4000, first);
  Endpoint::parse("::1", 4002, second);
  LegStats sum;  // nothing yet: not latched
  LegStats audio{100, 17200, 98, 2, 1, 3, 4, 2.5, first};
  LegStats video{50, 60000, 49, 1, 0, 0, 1, 7.25, second};
  sum.add(audio);
  sum.add(video);
  EXPECT_EQ(sum.packets, 150u);
  EXPECT_EQ(sum.bytes, 77200u);
  EXPECT_EQ(sum.packets_sent, 147u);
  EXPECT_EQ(sum.lost, 3u);
  EXPECT_EQ(sum.out_of_order, 1u);
  EXPECT_EQ(sum.dropped_source, 3u);
  EXPECT_EQ(sum.dropped_invalid, 5u);
  EXPECT_EQ(sum.jitter_ms, 7.25);
  EXPECT_EQ(sum.latched, first);

  LegStats unlatched;  // a stream whose peer never sent: the next one's peer fills in
  unlatched.jitter_ms = 9;
  unlatched.add(video);
  EXPECT_EQ(unlatched.latched, second);
  EXPECT_EQ(unlatched.jitter_ms, 9.0);
}

// Both directions of the channel under load: several "signalling" threads issue commands while
// packets flow, and a consumer thread takes every event on its own loop.
TEST(MediaPlane, CommandAndEventChannelUnderLoad) {
  QueuedEvents events;
  MediaSettings s = settings_for(30600, 30999);
  s.timeout_s = 60;
  auto plane = start_media_plane(s, events);

  std::atomic<bool> done{false};
  std::atomic<int> latched{0}, released{0};
  std::atomic<uint64_t> released_packets{0};
  std::thread consumer([&] {
    while (!done.load()) {
      pollfd p{events.queue.fd(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      events.queue.drain([&](MediaEvent& e) {
        if (e.kind == MediaEvent::latched) ++latched;
        if (e.kind == MediaEvent::released) {
          ++released;
          released_packets += e.stats[0].packets + e.stats[1].packets;
        }
      });
    }
  });

  constexpr int kThreads = 4;
  constexpr int kCallsPerThread = 25;
  constexpr uint16_t kPackets = 20;
  std::atomic<int> allocated{0};
  std::atomic<uint64_t> delivered{0};
  std::vector<std::thread> signalling;
  for (int t = 0; t < kThreads; ++t) {
    signalling.emplace_back([&] {
      Peer phone, provider;
      for (int call = 0; call < kCallsPerThread; ++call) {
        auto r = plane->allocate(kLoopback, kLoopback);
        if (!std::holds_alternative<Allocation>(r)) continue;
        const Allocation a = std::get<Allocation>(r);
        ++allocated;
        plane->set_remote(a.id, 0, remote_of(phone));
        plane->set_remote(a.id, 1, remote_of(provider));
        query_now(*plane, a.id);
        for (uint16_t i = 0; i < kPackets; ++i) {
          phone.send_to(relay_rtp(a.legs[0]), rtp_packet(i, i * 160u, 11));
          provider.send_to(relay_rtp(a.legs[1]), rtp_packet(i, i * 160u, 22));
        }
        delivered += provider.count_media(500, kPackets) + phone.count_media(500, kPackets);
        plane->release(a.id);
      }
    });
  }
  for (auto& t : signalling) t.join();
  plane->stop();
  done = true;
  consumer.join();
  events.queue.drain([&](MediaEvent& e) {
    if (e.kind == MediaEvent::released) ++released;
  });

  EXPECT_EQ(allocated.load(), kThreads * kCallsPerThread);
  EXPECT_EQ(released.load(), allocated.load()) << "every session ends with exactly one on_released";
  EXPECT_EQ(latched.load(), 2 * allocated.load());
  EXPECT_EQ(delivered.load(), uint64_t{2} * kPackets * static_cast<uint64_t>(allocated.load()));
  EXPECT_EQ(released_packets.load(), delivered.load());
}

}  // namespace
}  // namespace b2bua::media
