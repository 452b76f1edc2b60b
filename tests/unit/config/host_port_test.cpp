#include "b2bua/config/host_port.h"

#include <gtest/gtest.h>

namespace b2bua::config {
namespace {

TEST(HostPort, ParsesIpv4WithPort) {
  auto hp = parse_host_port("192.0.2.1:5080");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "192.0.2.1");
  EXPECT_EQ(hp->port, 5080);
  EXPECT_EQ(hp->str(), "192.0.2.1:5080");
}

TEST(HostPort, ParsesBracketedIpv6) {
  auto hp = parse_host_port("[2001:db8::1]:8088");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "2001:db8::1");
  EXPECT_EQ(hp->port, 8088);
  EXPECT_EQ(hp->str(), "[2001:db8::1]:8088");
  // Brackets without a port take the default.
  hp = parse_host_port("[::1]", 5060);
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, 5060);
}

TEST(HostPort, BareHostTakesTheDefaultPort) {
  auto hp = parse_host_port("sip.example.net", 5061);
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "sip.example.net");
  EXPECT_EQ(hp->port, 5061);
  hp = parse_host_port("198.51.100.7", 0);
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->port, 0);
  // Several colons without brackets: an IPv6 literal, never host and port.
  hp = parse_host_port("2001:db8::1:5060", 5060);
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "2001:db8::1:5060");
  EXPECT_EQ(hp->port, 5060);
}

TEST(HostPort, WithoutDefaultThePortIsRequired) {
  EXPECT_FALSE(parse_host_port("127.0.0.1"));
  EXPECT_FALSE(parse_host_port("[::1]"));
  EXPECT_FALSE(parse_host_port("::1:8088"));  // IPv6 needs brackets when a port follows
  EXPECT_TRUE(parse_host_port("example.net:1"));
}

TEST(HostPort, RejectsBadPortsAndShapes) {
  for (const char* bad : {"1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:99999", "1.2.3.4:", "1.2.3.4:50x", "1.2.3.4:-1",
                          "1.2.3.4:+5060", "1.2.3.4: 5060", "[::1]:", "[::1]5060", "[::1", ":5060", "", "[]:5060"}) {
    EXPECT_FALSE(parse_host_port(bad, 5060)) << bad;
  }
  EXPECT_TRUE(parse_host_port("1.2.3.4:65535"));
}

TEST(HostPort, PortFieldsOfParsedHeaders) {
  EXPECT_EQ(port_or("5070", 5060), 5070);
  EXPECT_EQ(port_or(nullptr, 5060), 5060);
  EXPECT_EQ(port_or("", 5060), 5060);
  EXPECT_EQ(port_or("70000", 5060), 5060);
  EXPECT_FALSE(parse_port("0"));
}

TEST(HostPort, UriHostBracketsIpv6Only) {
  EXPECT_EQ(uri_host("2001:db8::1"), "[2001:db8::1]");
  EXPECT_EQ(uri_host("[2001:db8::1]"), "[2001:db8::1]");
  EXPECT_EQ(uri_host("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(uri_host("sip.example.net"), "sip.example.net");
  EXPECT_EQ(uri_host(""), "");
}

TEST(HostPort, IpLiterals) {
  EXPECT_TRUE(is_ip_literal("192.0.2.1"));
  EXPECT_TRUE(is_ip_literal("fd00::1"));
  EXPECT_FALSE(is_ip_literal("[fd00::1]"));
  EXPECT_FALSE(is_ip_literal("example.net"));
  EXPECT_FALSE(is_ip_literal("192.0.2.256"));
}

}  // namespace
}  // namespace b2bua::config
