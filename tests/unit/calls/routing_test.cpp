#include "b2bua/calls/routing.h"

#include <gtest/gtest.h>

#include "b2bua/config/config_loader.h"

namespace b2bua::calls {
namespace {

std::shared_ptr<const config::Config> load(const char* text) {
  auto r = config::load_config_text(text, "/etc/b2bua/b2bua.jsonc");
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string("config"));
  return r.config;
}

const char* kConfig = R"({
  "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"] },
  "wan": { "address": "203.0.113.2" },
  "extensions": [ { "number": "10", "password": "pw-ten-Kx82q" }, { "number": "11", "password": "pw-eleven-Jr4" } ],
  "trunks": [
    { "name": "cheap", "registrar": "sip:a.example", "username": "u", "password": "p" },
    { "name": "main", "registrar": "sip:b.example", "username": "u", "password": "p", "numbers": ["+4930123456"] },
    { "name": "off", "enabled": false, "registrar": "sip:c.example", "username": "u", "password": "p" }
  ],
  "routing": {
    "inbound": [ { "number": "+4930123456", "ring": ["10", "11"] }, { "number": "555", "ring": ["11"] } ],
    "outbound": [
      { "prefix": "99", "trunk": "off" },
      { "prefix": "00", "trunk": "cheap", "strip": 2, "add": "+" },
      { "prefix": "0", "trunk": "main", "strip": 1, "add": "+4930" },
      { "prefix": "", "trunk": "main" }
    ],
    "emergency": ["110", "112"]
  }
})";

TEST(Routing, FirstMatchingPrefixWinsAndNormalises) {
  auto c = load(kConfig);
  auto r = route_outbound(*c, "0044201234567");
  ASSERT_FALSE(r.trunks.empty());
  EXPECT_EQ(r.trunks.front()->name, "cheap");
  EXPECT_EQ(r.number, "+44201234567");
  r = route_outbound(*c, "0301234");
  EXPECT_EQ(r.trunks.front()->name, "main");
  EXPECT_EQ(r.number, "+4930301234");
  r = route_outbound(*c, "5551234");
  EXPECT_EQ(r.trunks.front()->name, "main");
  EXPECT_EQ(r.number, "5551234");
  EXPECT_FALSE(r.emergency);
}

TEST(Routing, DisabledTrunkIsSkipped) {
  auto c = load(kConfig);
  auto r = route_outbound(*c, "99123");
  ASSERT_FALSE(r.trunks.empty());
  EXPECT_EQ(r.trunks.front()->name, "main");  // falls through to the catch-all
}

TEST(Routing, EmergencyNumbersGoOutAsDialled) {
  auto c = load(kConfig);
  auto r = route_outbound(*c, "112");
  ASSERT_FALSE(r.trunks.empty());
  EXPECT_TRUE(r.emergency);
  EXPECT_EQ(r.number, "112");
}

TEST(Routing, NoRouteWithoutRules) {
  auto c = load(R"({ "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"] } })");
  EXPECT_TRUE(route_outbound(*c, "0301234").trunks.empty());
}

TEST(Routing, InboundMatchesEveryFormOfTheNumber) {
  auto c = load(kConfig);
  for (const char* called : {"+4930123456", "4930123456", "004930123456", "030123456"}) {
    auto* r = route_inbound(*c, called);
    ASSERT_NE(r, nullptr) << called;
    EXPECT_EQ(r->number, "+4930123456") << called;
  }
  EXPECT_EQ(route_inbound(*c, "+4930123457"), nullptr);
  EXPECT_EQ(route_inbound(*c, "123456"), nullptr);  // too short a tail to be the same number
  ASSERT_NE(route_inbound(*c, "555"), nullptr);      // exact match of a short number
  EXPECT_EQ(route_inbound(*c, "5550"), nullptr);
}

}  // namespace
}  // namespace b2bua::calls
