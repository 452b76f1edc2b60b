#include "b2bua/trunk/nat_address.h"

#include <gtest/gtest.h>

#include "sip_message.h"

namespace b2bua::trunk {
namespace {

const sip_via_t* via_of(const test::MsgPtr& m) { return test::sip_of(m)->sip_via; }

TEST(NatAddress, LearnsReceivedAndRport) {
  NatAddress nat(std::nullopt, {"192.168.1.2", 5060});
  EXPECT_EQ(nat.contact_address().str(), "b2bua.invalid:5060")
      << "nothing known yet and a private bind address: a name that reveals nothing";
  NatAddress on_router(std::nullopt, {"203.0.113.2", 5060});
  EXPECT_EQ(on_router.contact_address().str(), "203.0.113.2:5060") << "a public bind address is its own contact";
  auto m = test::parse_message(test::register_response(
      200, "SIP/2.0/UDP 192.168.1.2:5060;rport=40000;received=203.0.113.7;branch=z9hG4bK1", ""));
  ASSERT_TRUE(m);
  EXPECT_TRUE(nat.learn(via_of(m)));
  EXPECT_EQ(nat.public_address(), "203.0.113.7:40000");
  EXPECT_EQ(nat.contact_address().str(), "203.0.113.7:40000");
  EXPECT_FALSE(nat.learn(via_of(m))) << "the same address again is no change";
}

TEST(NatAddress, PortOnlyChangeCounts) {
  NatAddress nat(std::nullopt, {"10.0.0.2", 5060});
  auto a = test::parse_message(test::register_response(200, "SIP/2.0/UDP 10.0.0.2;rport=1000;received=198.51.100.1", ""));
  auto b = test::parse_message(test::register_response(200, "SIP/2.0/UDP 10.0.0.2;rport=1001;received=198.51.100.1", ""));
  EXPECT_TRUE(nat.learn(via_of(a)));
  EXPECT_TRUE(nat.learn(via_of(b)));
  EXPECT_EQ(nat.public_address(), "198.51.100.1:1001");
}

TEST(NatAddress, ViaWithoutInformationTeachesNothing) {
  NatAddress nat(std::nullopt, {"10.0.0.2", 5060});
  auto m = test::parse_message(test::register_response(200, "SIP/2.0/UDP 10.0.0.2:5060;rport;branch=z9hG4bK1", ""));
  EXPECT_FALSE(nat.learn(via_of(m)));
  EXPECT_EQ(nat.public_address(), "");
}

TEST(NatAddress, ConfiguredPublicAddressWins) {
  NatAddress nat(std::string("203.0.113.9"), {"10.0.0.2", 5160});
  EXPECT_EQ(nat.contact_address().str(), "203.0.113.9:5160");
  auto m = test::parse_message(test::register_response(200, "SIP/2.0/UDP 10.0.0.2;rport=1;received=198.51.100.1", ""));
  EXPECT_FALSE(nat.learn(via_of(m)));
  EXPECT_EQ(nat.contact_address().str(), "203.0.113.9:5160");
}

TEST(NatAddress, SentByIsWhatTheViaNames) {
  EXPECT_EQ(NatAddress(std::nullopt, {"192.168.1.2", 5080}).sent_by().str(), "b2bua.invalid:5080")
      << "behind a NAT the Via never names the private bind address, learned or not";
  NatAddress learned(std::nullopt, {"192.168.1.2", 5080});
  auto m = test::parse_message(test::register_response(
      200, "SIP/2.0/UDP b2bua.invalid:5080;rport=40000;received=203.0.113.7;branch=z9hG4bK1", ""));
  ASSERT_TRUE(learned.learn(via_of(m)));
  EXPECT_EQ(learned.sent_by().str(), "b2bua.invalid:5080") << "the Via stays as the agent was started";
  EXPECT_EQ(NatAddress(std::string("203.0.113.9"), {"10.0.0.2", 5160}).sent_by().str(), "203.0.113.9:5160");
  EXPECT_EQ(NatAddress(std::nullopt, {"203.0.113.2", 5060}).sent_by().str(), "203.0.113.2:5060");
}

TEST(NatAddress, RestoredAddressIsUsedUntilCorrected) {
  NatAddress nat(std::nullopt, {"10.0.0.2", 5060});
  nat.restore("198.51.100.4:30000");
  EXPECT_EQ(nat.contact_address().str(), "198.51.100.4:30000");
  nat.restore("not an address");
  EXPECT_EQ(nat.contact_address().str(), "198.51.100.4:30000");
}

}  // namespace
}  // namespace b2bua::trunk
