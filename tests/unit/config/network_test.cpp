#include "b2bua/config/network.h"

#include <gtest/gtest.h>

namespace b2bua::config {
namespace {

TEST(Network, ContainsRespectsPrefix) {
  Network n;
  ASSERT_TRUE(parse_network("192.168.1.0/24", n));
  EXPECT_TRUE(n.contains("192.168.1.255"));
  EXPECT_FALSE(n.contains("192.168.2.1"));
  EXPECT_TRUE(n.contains("::ffff:192.168.1.9"));  // v4-mapped from a dual-stack socket
  ASSERT_TRUE(parse_network("10.0.0.0/9", n));
  EXPECT_TRUE(n.contains("10.127.0.1"));
  EXPECT_FALSE(n.contains("10.128.0.1"));
  ASSERT_TRUE(parse_network("fd00::/8", n));
  EXPECT_TRUE(n.contains("fd12:3456::1"));
  EXPECT_FALSE(n.contains("fe80::1"));
  ASSERT_TRUE(parse_network("203.0.113.7", n));
  EXPECT_EQ(n.prefix, 32);
  EXPECT_TRUE(n.contains("203.0.113.7"));
  EXPECT_FALSE(n.contains("203.0.113.8"));
  EXPECT_FALSE(n.contains("not-an-ip"));
}

TEST(Network, RejectsMalformed) {
  Network n;
  for (const char* bad : {"", "1.2.3.0/33", "1.2.3.0/", "1.2.3/24", "fd00::/129", "1.2.3.4/2x", "host/24"}) {
    EXPECT_FALSE(parse_network(bad, n)) << bad;
  }
}

TEST(ListenAddress, ParsesTransportHostPort) {
  ListenAddress a;
  std::string why;
  ASSERT_TRUE(parse_listen_address("tcp:[fd00::1]:5080", a, why)) << why;
  EXPECT_EQ(a.transport, "tcp");
  EXPECT_EQ(a.host, "fd00::1");
  EXPECT_EQ(a.port, 5080);
  EXPECT_EQ(a.to_sip_url(), "sip:[fd00::1]:5080;transport=tcp");
  ASSERT_TRUE(parse_listen_address("udp:192.168.1.1", a, why));
  EXPECT_EQ(a.port, 5060);
  EXPECT_FALSE(parse_listen_address("sctp:1.2.3.4:5060", a, why));
  EXPECT_FALSE(parse_listen_address("udp:1.2.3.4:0", a, why));
  EXPECT_FALSE(parse_listen_address("udp:example.net:5060", a, why));
}

TEST(Loopback, DetectsLoopbackAddresses) {
  EXPECT_TRUE(is_loopback("::1"));
  EXPECT_TRUE(is_loopback("127.0.0.2"));
  EXPECT_FALSE(is_loopback("192.168.1.1"));
  EXPECT_FALSE(is_loopback("::2"));
  EXPECT_FALSE(is_loopback("localhost"));
}

}  // namespace
}  // namespace b2bua::config
