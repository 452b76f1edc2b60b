// The NAT count (nat_path.h) from hop lists as the probe returns them, the "network.nat"
// finding (health.h) it turns into, and the probe itself on loopback (no root needed).
#include "b2bua/status/nat_path.h"

#include <gtest/gtest.h>

#include "b2bua/status/health.h"

namespace b2bua::status {
namespace {

NatPath path_of(std::vector<NatHop> hops) {
  NatPath p;
  p.target = "198.51.100.10";
  p.hops = std::move(hops);
  return p;
}

const NatHop kHomeRouter{1, "192.168.50.1", false};
const NatHop kModem{2, "192.168.178.1", false};
const NatHop kProvider{3, "198.51.100.10", true};

TEST(NatPath, LanBehindHomeRouterAndModemIsDoubleNat) {
  auto l = classify_nat_path(path_of({kHomeRouter, kModem, kProvider}), "192.168.50.2", "203.0.113.2", false);
  EXPECT_EQ(l.private_hops, 2);
  EXPECT_EQ(l.nats, 2);
  EXPECT_TRUE(l.double_nat());
  Finding f = nat_layout_finding(l);
  EXPECT_EQ(f.id, "network.nat");
  EXPECT_EQ(f.verdict, Verdict::warning);
  EXPECT_NE(f.what.find("double NAT"), std::string::npos) << f.what;
  EXPECT_NE(f.evidence.find("192.168.178.1 (private)"), std::string::npos) << f.evidence;
  EXPECT_NE(f.evidence.find("the provider sees 203.0.113.2"), std::string::npos) << f.evidence;
  EXPECT_NE(f.action.find("192.168.178.1"), std::string::npos) << f.action;  // the outer device
}

TEST(NatPath, LanBehindOneRouterIsSingleNat) {
  NatHop provider{2, "198.51.100.10", true};
  auto l = classify_nat_path(path_of({kHomeRouter, provider}), "192.168.50.2", "203.0.113.2", false);
  EXPECT_EQ(l.nats, 1);
  EXPECT_FALSE(l.double_nat());
  Finding f = nat_layout_finding(l);
  EXPECT_EQ(f.verdict, Verdict::ok);
  EXPECT_EQ(f.what.find("double"), std::string::npos) << f.what;
}

TEST(NatPath, RouterWithPrivateWanAddressHasANatInFront) {
  NatHop modem{1, "192.168.178.1", false}, provider{2, "198.51.100.10", true};
  auto l = classify_nat_path(path_of({modem, provider}), "192.168.178.2", "203.0.113.2", true);
  EXPECT_EQ(l.nats, 1);
  EXPECT_EQ(l.household_nats, 2);
  Finding f = nat_layout_finding(l);
  EXPECT_EQ(f.verdict, Verdict::warning);
  EXPECT_NE(f.what.find("in front of this router"), std::string::npos) << f.what;
  EXPECT_NE(f.what.find("double NAT"), std::string::npos) << f.what;
}

TEST(NatPath, RouterWithPublicWanAddressIsTheOnlyNat) {
  NatHop provider{1, "198.51.100.10", true};
  auto l = classify_nat_path(path_of({provider}), "203.0.113.2", "203.0.113.2", true);
  EXPECT_EQ(l.nats, 0);
  EXPECT_EQ(l.household_nats, 1);
  EXPECT_EQ(nat_layout_finding(l).verdict, Verdict::ok);
}

// ICMP filtered on the way: a private WAN address on the router still means a NAT in front.
TEST(NatPath, SilentPathStillCountsTheNatAPrivateAddressNeeds) {
  NatPath silent;
  silent.error = "no trunk has reached its server yet";
  auto l = classify_nat_path(silent, "192.168.178.2", "203.0.113.2", true);
  EXPECT_TRUE(l.double_nat());
  Finding f = nat_layout_finding(l);
  EXPECT_NE(f.evidence.find("not probed: no trunk"), std::string::npos) << f.evidence;
  // In the LAN, a silent path proves only the one NAT.
  EXPECT_FALSE(classify_nat_path(silent, "192.168.50.2", "203.0.113.2", false).double_nat());
}

// Only routers before the first public one count: private addresses inside a provider's
// network further on are not our NATs; a silent router is not counted either.
TEST(NatPath, CountsOnlyAnsweringPrivateRoutersBeforeTheFirstPublicOne) {
  NatHop silent{2, "", false}, isp{3, "203.0.113.1", false}, core{4, "10.1.2.3", false};
  auto l = classify_nat_path(path_of({kHomeRouter, silent, isp, core}), "192.168.50.2", "203.0.113.2", false);
  EXPECT_EQ(l.private_hops, 1);
  EXPECT_FALSE(l.double_nat());
  EXPECT_NE(nat_layout_finding(l).evidence.find("* (no answer)"), std::string::npos);
}

TEST(NatPath, CarrierGradeNatIsNamed) {
  NatHop cgn{2, "100.64.12.1", false}, provider{3, "198.51.100.10", true};
  auto l = classify_nat_path(path_of({kHomeRouter, cgn, provider}), "192.168.50.2", "203.0.113.2", false);
  EXPECT_TRUE(l.carrier_nat);
  EXPECT_TRUE(l.double_nat());
  Finding f = nat_layout_finding(l);
  EXPECT_EQ(f.verdict, Verdict::warning);
  EXPECT_NE(f.what.find("carrier-grade NAT"), std::string::npos) << f.what;
}

TEST(NatPath, PublicAddressIsNoNat) {
  NatHop isp{1, "203.0.113.1", false};
  auto l = classify_nat_path(path_of({isp}), "203.0.113.2", "203.0.113.2", false);
  EXPECT_EQ(l.nats, 0);
  EXPECT_EQ(nat_layout_finding(l).verdict, Verdict::ok);
}

// The real probe: towards loopback the first datagram reaches the target, which answers
// port-unreachable (traceroute's port is closed), read from the error queue without root.
TEST(NatPath, ProbeReachesLoopbackAtTheFirstHop) {
  NatPath p = probe_nat_path("", "127.0.0.1", 4);
  ASSERT_TRUE(p.error.empty()) << p.error;
  ASSERT_EQ(p.hops.size(), 1u);
  EXPECT_TRUE(p.hops[0].destination);
  EXPECT_EQ(p.hops[0].address, "127.0.0.1");
  EXPECT_EQ(p.source, "127.0.0.1");
}

TEST(NatPath, ProbeRefusesANameOrIpv6) {
  EXPECT_FALSE(probe_nat_path("", "sip.example.net").error.empty());
  EXPECT_FALSE(probe_nat_path("", "::1").error.empty());
}

}  // namespace
}  // namespace b2bua::status
