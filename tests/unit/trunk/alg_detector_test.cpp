#include "b2bua/trunk/alg_detector.h"

#include <gtest/gtest.h>

#include "sip_message.h"

namespace b2bua::trunk {
namespace {

const HostPort kLocal{"192.168.1.2", 5060};
const HostPort kPublic{"203.0.113.7", 40000};

TEST(AlgDetector, HonestNatIsNoAlg) {
  AlgDetector alg;
  auto m = test::parse_message(test::register_response(
      200, "SIP/2.0/UDP 192.168.1.2:5060;rport=40000;received=203.0.113.7;branch=z9hG4bK1",
      "<sip:tok@203.0.113.7:40000>;expires=60"));
  EXPECT_FALSE(alg.inspect(test::sip_of(m), kLocal, "tok", kPublic));
  EXPECT_FALSE(alg.detected());
}

TEST(AlgDetector, HiddenViaEchoedIsNoAlg) {
  // Behind a NAT our Via names b2bua.invalid (nothing private leaves): echoed as sent, with the
  // public address in received/rport, it is an honest NAT, not a rewrite.
  AlgDetector alg;
  auto m = test::parse_message(test::register_response(
      200, "SIP/2.0/UDP b2bua.invalid:5060;rport=40000;received=203.0.113.7;branch=z9hG4bK1",
      "<sip:tok@203.0.113.7:40000>;expires=60"));
  EXPECT_FALSE(alg.inspect(test::sip_of(m), HostPort{"b2bua.invalid", 5060}, "tok", kPublic));
  EXPECT_FALSE(alg.detected());
}

TEST(AlgDetector, ReceivedMissingForPrivateVia) {
  AlgDetector alg;
  // The ALG put the public address into our Via on the way out and put ours back on the way in.
  auto m = test::parse_message(
      test::register_response(200, "SIP/2.0/UDP 192.168.1.2:5060;rport;branch=z9hG4bK1", "<sip:tok@192.168.1.2:5060>"));
  auto found = alg.inspect(test::sip_of(m), kLocal, "tok", kLocal);
  ASSERT_TRUE(found);
  EXPECT_NE(found->find("received"), std::string::npos);
  EXPECT_TRUE(alg.detected());
  EXPECT_FALSE(alg.inspect(test::sip_of(m), kLocal, "tok", kLocal)) << "one warning per kind";
}

TEST(AlgDetector, PrivateReceivedFromPublicServer) {
  // The Linux SIP helper rewrites Via and Contact to the public address on the way out and
  // translates everything back on the way in, received= included: only the private received
  // from a server on the internet gives it away.
  auto m = test::parse_message(test::register_response(
      200, "SIP/2.0/UDP 192.168.1.2:5060;rport=5060;received=192.168.1.2;branch=z9hG4bK1",
      "<sip:tok@192.168.1.2:5060>;expires=60"));
  AlgDetector alg;
  auto found = alg.inspect(test::sip_of(m), kLocal, "tok", kLocal, HostPort{"198.51.100.10", 5060});
  ASSERT_TRUE(found);
  EXPECT_NE(found->find("received=192.168.1.2"), std::string::npos) << *found;
  AlgDetector same_lan;
  EXPECT_FALSE(same_lan.inspect(test::sip_of(m), kLocal, "tok", kLocal, HostPort{"192.168.1.50", 5060}))
      << "a provider inside the LAN sees our private address without any ALG";
  AlgDetector unknown_server;
  EXPECT_FALSE(unknown_server.inspect(test::sip_of(m), kLocal, "tok", kLocal));
}

TEST(AlgDetector, EchoedViaDiffers) {
  AlgDetector alg;
  auto m = test::parse_message(test::register_response(200, "SIP/2.0/UDP 203.0.113.7:5060;received=203.0.113.7", ""));
  auto found = alg.inspect(test::sip_of(m), kLocal, "tok", kLocal);
  ASSERT_TRUE(found);
  EXPECT_NE(found->find("came back as 203.0.113.7:5060"), std::string::npos) << *found;
}

TEST(AlgDetector, ContactWeNeverSent) {
  AlgDetector alg;
  auto m = test::parse_message(test::register_response(
      200, "SIP/2.0/UDP 192.168.1.2:5060;rport=5060;received=203.0.113.7", "<sip:tok@203.0.113.7:5060>;expires=60"));
  auto found = alg.inspect(test::sip_of(m), kLocal, "tok", kLocal);
  ASSERT_TRUE(found);
  EXPECT_NE(found->find("registered as 203.0.113.7:5060"), std::string::npos) << *found;
}

TEST(AlgDetector, OldBindingsOfOursAndProviderMarkedContactsAreNoSign) {
  AlgDetector alg;
  auto first = test::parse_message(test::register_response(
      200, "SIP/2.0/UDP 192.168.1.2:5060;rport=40000;received=203.0.113.7", "<sip:tok@192.168.1.2:5060>;expires=60"));
  EXPECT_FALSE(alg.inspect(test::sip_of(first), kLocal, "tok", kLocal));
  auto second = test::parse_message(test::register_response(
      200, "SIP/2.0/UDP 192.168.1.2:5060;rport=40000;received=203.0.113.7",
      "<sip:tok@192.168.1.2:5060>;expires=10, <sip:tok@203.0.113.7:40000>;expires=60, "
      "<sip:tok@198.51.100.1:1>;received=\"sip:198.51.100.1:1\""));
  EXPECT_FALSE(alg.inspect(test::sip_of(second), kLocal, "tok", kPublic));
}

}  // namespace
}  // namespace b2bua::trunk
