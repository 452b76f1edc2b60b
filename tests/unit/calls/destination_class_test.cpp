// Destination classes: the built-in tables, routing.classes overrides, and the class routing
// gives a number after its outbound rule (the number the provider bills), deny rules included.
#include <gtest/gtest.h>

#include "b2bua/calls/routing.h"
#include "b2bua/common/destination_class.h"
#include "b2bua/config/config_loader.h"

namespace b2bua::calls {
namespace {

using number::DestinationClass;

std::shared_ptr<const config::Config> load(const std::string& routing) {
  std::string text = R"({
  "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"] },
  "wan": { "address": "203.0.113.2" },
  "extensions": [ { "number": "10", "password": "pw-ten-Kx82q" } ],
  "trunks": [ { "name": "main", "registrar": "sip:b.example", "username": "u", "password": "p" } ],
  "routing": )" + routing + "}";
  auto r = config::load_config_text(text, "/etc/b2bua/b2bua.jsonc");
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string("config"));
  return r.config;
}

const char* name(DestinationClass c) { return number::class_name(c); }

TEST(DestinationClass, GermanTable) {
  auto de = number::builtin_class_table("DE").value();
  for (auto [n, want] : std::initializer_list<std::pair<const char*, DestinationClass>>{
           {"030123456", DestinationClass::national},
           {"0800123456", DestinationClass::national},  // free
           {"123456", DestinationClass::national},      // local, no area code
           {"015112345678", DestinationClass::mobile},
           {"01701234567", DestinationClass::mobile},
           {"+4917012345678", DestinationClass::mobile},
           {"004916012345678", DestinationClass::mobile},
           {"+4930123456", DestinationClass::national},
           {"004930123456", DestinationClass::national},
           {"0044201234567", DestinationClass::international},
           {"+44201234567", DestinationClass::international},
           {"+881612345678", DestinationClass::international},
           {"09001234567", DestinationClass::premium},
           {"+499001234567", DestinationClass::premium},
           {"01371234567", DestinationClass::premium},
           {"01805123456", DestinationClass::premium},
           {"0190123456", DestinationClass::premium},
           {"11833", DestinationClass::premium},
       }) {
    EXPECT_STREQ(name(number::classify(de, n)), name(want)) << n;
  }
}

TEST(DestinationClass, GenericTableKnowsOnlyAbroad) {
  auto generic = number::builtin_class_table("generic").value();
  EXPECT_EQ(number::classify(generic, "+4930123456"), DestinationClass::international);
  EXPECT_EQ(number::classify(generic, "004930123456"), DestinationClass::international);
  EXPECT_EQ(number::classify(generic, "09001234567"), DestinationClass::national);
  EXPECT_EQ(number::classify(generic, "015112345678"), DestinationClass::national);
  EXPECT_FALSE(number::builtin_class_table("FR").has_value());
}

TEST(DestinationClass, NamesRoundTrip) {
  for (auto c : number::kAllClasses) EXPECT_EQ(number::parse_class(number::class_name(c)), c);
  EXPECT_FALSE(number::parse_class("expensive").has_value());
}

// An override replaces its class's list and takes its prefixes away from every other class;
// the longest prefix decides.
TEST(DestinationClass, OverridesReplaceAndWin) {
  auto c = load(R"({ "country": "DE", "classes": { "national": ["0180"], "premium": ["0900", "0322"],
                     "international": ["00", "+", "0043"] } })");
  const auto& t = c->routing.classes;
  EXPECT_EQ(number::classify(t, "01805123456"), DestinationClass::national);  // taken from premium
  EXPECT_EQ(number::classify(t, "03221234567"), DestinationClass::premium);
  EXPECT_EQ(number::classify(t, "01371234567"), DestinationClass::national);  // premium list replaced
  EXPECT_EQ(number::classify(t, "015112345678"), DestinationClass::mobile);   // untouched
  EXPECT_EQ(number::classify(t, "0043123456"), DestinationClass::international);
}

TEST(DestinationClass, CountryPicksTheTable) {
  auto c = load(R"({ "country": "generic" })");
  EXPECT_EQ(c->routing.country, "generic");
  EXPECT_EQ(number::classify(c->routing.classes, "+4930123456"), DestinationClass::international);
  auto d = load(R"({})");
  EXPECT_EQ(d->routing.country, "DE");
  EXPECT_EQ(number::classify(d->routing.classes, "+4930123456"), DestinationClass::national);
}

// The class is the one of the number the trunk gets: a "0" for an outside line is stripped
// first, so 0 0900... is premium and not international.
TEST(DestinationClass, RoutingClassesTheNumberAsSent) {
  auto c = load(R"({ "outbound": [ { "prefix": "0", "trunk": "main", "strip": 1 } ], "emergency": ["112"] })");
  auto r = route_outbound(*c, "009001234567");
  EXPECT_EQ(r.number, "09001234567");
  EXPECT_EQ(r.destination, DestinationClass::premium);
  EXPECT_EQ(route_outbound(*c, "00044201234567").destination, DestinationClass::international);
  EXPECT_EQ(route_outbound(*c, "0030123456").destination, DestinationClass::national);
  EXPECT_EQ(destination_class(*c, "112"), DestinationClass::emergency);
  auto add = load(R"({ "outbound": [ { "prefix": "0", "trunk": "main", "strip": 1, "add": "+49" } ] })");
  EXPECT_EQ(route_outbound(*add, "030123456").destination, DestinationClass::national);  // +4930123456
}

// "trunk": null refuses what it matches, so a catch-all no longer sends everything out; an
// emergency number passes it by to the rule that routes it.
TEST(DestinationClass, DenyRule) {
  auto c = load(R"({ "outbound": [ { "prefix": "0900", "trunk": null }, { "prefix": "112", "trunk": "main" },
                                   { "prefix": "0", "trunk": "main" }, { "prefix": "", "trunk": null } ],
                     "emergency": ["112", "110"] })");
  auto r = route_outbound(*c, "09001234567");
  EXPECT_TRUE(r.denied);
  EXPECT_TRUE(r.trunks.empty());
  EXPECT_EQ(r.destination, DestinationClass::premium);
  EXPECT_TRUE(route_outbound(*c, "5551234").denied);  // the catch-all deny
  auto ok = route_outbound(*c, "030123456");
  EXPECT_FALSE(ok.denied);
  ASSERT_FALSE(ok.trunks.empty());
  auto e = route_outbound(*c, "112");
  EXPECT_FALSE(e.denied);
  ASSERT_FALSE(e.trunks.empty());
  EXPECT_EQ(e.destination, DestinationClass::emergency);
  // 110 has no rule of its own: the catch-all deny does not stop it, though nothing routes it.
  EXPECT_FALSE(route_outbound(*c, "110").denied);
}

}  // namespace
}  // namespace b2bua::calls
