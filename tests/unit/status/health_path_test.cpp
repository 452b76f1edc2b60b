// The health rules about the way to a provider (health_trunk.h: the last failing exchange, DNS,
// the keep-alive's round trip), about phones (health_phones.h: another NAT in front of a
// phone, why it last failed to register) and the NAT check against the WAN interface's
// addresses (health.h LocalFacts).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "b2bua/status/health.h"
#include "b2bua/status/wan_addresses.h"
#include "health_test_support.h"

namespace b2bua::status {
namespace {

using nlohmann::json;

using namespace test;  // NOLINT: kNow, at_now, only, has, contains, trunk (health_test_support.h)

json exchange(json changes) {
  json f = {{"at", kNow - 60}, {"server", "217.10.79.9:5060"}, {"request", "REGISTER sip:sipgate.de SIP/2.0"},
            {"answered", true}, {"after_credentials", false}};
  f.update(changes);
  return f;
}

TEST(HealthTrunk, A503IsTheProvidersAnswerWithItsRetryAfterNotSilence) {
  auto f = only(trunk({{"state", "backoff"}, {"last_status", 503}, {"last_phrase", "Service Unavailable"},
                       {"last_failure", exchange({{"response", "SIP/2.0 503 Service Unavailable"}, {"retry_after", 30}})}}),
                "trunk.sipgate.registration");
  EXPECT_EQ(f.verdict, Verdict::problem);
  EXPECT_EQ(f.what, "the provider of trunk sipgate answered 503 Service Unavailable (Retry-After 30)");
  EXPECT_FALSE(contains(f.what, "does not answer"));
  EXPECT_TRUE(contains(f.evidence, "REGISTER sip:sipgate.de SIP/2.0 -> SIP/2.0 503 Service Unavailable; Retry-After: 30"))
      << f.evidence;
  EXPECT_TRUE(contains(f.evidence, "sent to 217.10.79.9:5060")) << f.evidence;

  auto plain = only(trunk({{"state", "backoff"}, {"last_status", 503},
                           {"last_failure", exchange({{"response", "SIP/2.0 503 Service Unavailable"},
                                                      {"warning", "399 sip.example \"maintenance\""}})}}),
                    "trunk.sipgate.registration");
  EXPECT_EQ(plain.what, "the provider of trunk sipgate answered 503 Service Unavailable");
  EXPECT_TRUE(contains(plain.evidence, "Warning: 399 sip.example \"maintenance\"")) << plain.evidence;
}

TEST(HealthTrunk, ForbiddenAfterCredentialsIsAWrongPasswordNamingTheRealm) {
  auto f = only(trunk({{"state", "auth_failed"}, {"last_status", 403},
                       {"last_failure", exchange({{"response", "SIP/2.0 403 Forbidden"}, {"after_credentials", true},
                                                  {"challenge", {{"header", "WWW-Authenticate"}, {"algorithm", "MD5"},
                                                                 {"realm", "sipgate.de"}}}})}}),
                "trunk.sipgate.registration");
  EXPECT_EQ(f.verdict, Verdict::problem);
  EXPECT_TRUE(contains(f.what, "refuses the credentials of trunk sipgate for realm \"sipgate.de\": wrong password"))
      << f.what;
  EXPECT_TRUE(contains(f.evidence, "after answering WWW-Authenticate Digest realm=\"sipgate.de\", algorithm MD5"))
      << f.evidence;
  EXPECT_TRUE(contains(f.action, "username (4930123456)")) << f.action;

  auto again = only(trunk({{"state", "auth_failed"},
                           {"last_failure", exchange({{"response", "SIP/2.0 401 Unauthorized"}, {"after_credentials", true},
                                                      {"challenge", {{"header", "WWW-Authenticate"}, {"algorithm", ""},
                                                                     {"realm", "r"}}}})}}),
                    "trunk.sipgate.registration");
  EXPECT_TRUE(contains(again.what, "for realm \"r\"")) << again.what;
  EXPECT_TRUE(contains(again.evidence, "MD5 (not named)")) << again.evidence;
}

TEST(HealthTrunk, NoResponseIsSilenceAndADnsFailureIsDns) {
  auto silent = only(trunk({{"state", "backoff"}, {"last_failure", exchange({{"answered", false},
                                                                              {"reason", "408 Request Timeout"}})}}),
                     "trunk.sipgate.registration");
  EXPECT_TRUE(contains(silent.what, "does not answer")) << silent.what;
  EXPECT_TRUE(contains(silent.evidence, "no response: 408 Request Timeout")) << silent.evidence;
  auto dns = only(trunk({{"state", "backoff"}, {"last_failure", exchange({{"answered", false}, {"server", ""},
                                                                           {"reason", "DNS: no address found"}})}}),
                  "trunk.sipgate.registration");
  EXPECT_TRUE(contains(dns.what, "does not resolve")) << dns.what;
}

TEST(HealthTrunk, AFailureFollowedByASuccessIsHistory) {
  auto findings = trunk({{"state", "registered"}, {"registered_until", kNow + 300},
                         {"attempts", {{{"at", kNow - 60}, {"server", "a:5060"}, {"result", "503 Service Unavailable"}},
                                       {{"at", kNow - 30}, {"server", "a:5060"}, {"result", "200 OK"}}}},
                         {"last_failure", exchange({{"response", "SIP/2.0 503 Service Unavailable"}})}});
  EXPECT_EQ(only(findings, "trunk.sipgate.registration").verdict, Verdict::ok);
  auto last = only(findings, "trunk.sipgate.last_failure");
  EXPECT_EQ(last.verdict, Verdict::ok);
  EXPECT_TRUE(contains(last.evidence, "503 Service Unavailable")) << last.evidence;
}

TEST(HealthTrunk, DnsAnswersAndServerOrderAreEvidence) {
  auto f = only(trunk({{"state", "registered"},
                       {"servers", {"127.0.0.1:5071", "127.0.0.1:5072"}},
                       {"dns", "SRV _sip._udp.provider.test: sip1.provider.test:5071, sip2.provider.test:5072"},
                       {"attempts", {{{"at", kNow}, {"server", "127.0.0.1:5071"}, {"result", "no answer (408 Request Timeout)"}},
                                     {{"at", kNow}, {"server", "127.0.0.1:5072"}, {"result", "200 OK"}}}}}),
                "trunk.sipgate.dns");
  EXPECT_EQ(f.verdict, Verdict::ok);
  EXPECT_EQ(f.what, "trunk sipgate tries, in this order: 127.0.0.1:5071, 127.0.0.1:5072");
  EXPECT_TRUE(contains(f.evidence, "SRV _sip._udp.provider.test: sip1.provider.test:5071")) << f.evidence;
  EXPECT_TRUE(contains(f.evidence, "127.0.0.1:5071 no answer (408 Request Timeout), 127.0.0.1:5072 200 OK"))
      << f.evidence;
  auto none = only(trunk({{"state", "backoff"}, {"servers", json::array()}, {"dns", "SRV _sip._udp.x: no record"}}),
                   "trunk.sipgate.dns");
  EXPECT_EQ(none.verdict, Verdict::problem);
}

TEST(HealthTrunk, KeepaliveRoundTripIsReachability) {
  auto f = only(trunk({{"state", "registered"}, {"server", "217.10.79.9:5060"}, {"keepalive_rtt_ms", 12.5},
                       {"keepalive_answered_at", kNow - 5}}),
                "trunk.sipgate.reachability");
  EXPECT_EQ(f.what, "the provider's server 217.10.79.9:5060 answers OPTIONS in 12.5 ms");
  EXPECT_FALSE(has(trunk({{"state", "registered"}, {"keepalive_rtt_ms", nullptr}}), "trunk.sipgate.reachability"));
}

TEST(HealthTrunk, NatIsJudgedByTheWanInterfacesAddressesNotTheConfig) {
  LocalFacts facts = at_now();
  facts.wan_address = "192.168.0.2";  // stale: the interface now has the public address itself
  facts.wan_interface = "ppp0";
  facts.wan_interface_addresses = {"198.51.100.7"};
  auto direct = only(trunk({{"state", "registered"}, {"public_address", "198.51.100.7:5060"}}, facts),
                     "trunk.sipgate.public_address");
  EXPECT_TRUE(contains(direct.what, "directly")) << direct.what;
  EXPECT_TRUE(contains(direct.evidence, "addresses of ppp0: 198.51.100.7")) << direct.evidence;

  LocalFacts routed = at_now();
  routed.route_source = [](const std::string& ip) -> std::optional<std::string> {
    return ip == "217.10.79.9" ? std::optional<std::string>("10.0.0.2") : std::nullopt;
  };
  auto nat = only(trunk({{"state", "registered"}, {"server", "217.10.79.9:5060"},
                         {"public_address", "198.51.100.7:5060"}}, routed),
                  "trunk.sipgate.public_address");
  EXPECT_TRUE(contains(nat.what, "behind a NAT")) << nat.what;
  EXPECT_TRUE(contains(nat.evidence, "source address towards 217.10.79.9: 10.0.0.2")) << nat.evidence;
}

TEST(WanAddresses, LoopbackHasItsAddressAndRoutesToItself) {
  auto lo = interface_addresses("lo");
  EXPECT_NE(std::find(lo.begin(), lo.end(), "127.0.0.1"), lo.end());
  EXPECT_TRUE(interface_addresses("no-such-if0").empty());
  EXPECT_EQ(route_source("127.0.0.1").value_or(""), "127.0.0.1");
  EXPECT_FALSE(route_source("not-an-ip").has_value());
}

std::vector<Finding> extension(json e, const LocalFacts& facts = at_now()) {
  e["number"] = "10";
  return diagnose(json{{"extensions", json::array({e})}}, facts);
}

json binding(const std::string& contact, const std::string& source, const std::string& transport = "udp") {
  return {{"contact", contact}, {"source", source}, {"transport", transport}, {"user_agent", "Yealink"},
          {"expires_at", kNow + 300}, {"answering_options", true}, {"updated_at", kNow - 100}};
}

TEST(HealthPhones, AContactOtherThanTheSourceIsAnotherNat) {
  auto f = only(extension({{"bindings", {binding("sip:10@192.168.178.20:5060", "192.168.1.40:1024")}}}),
                "extension.10.nat");
  EXPECT_EQ(f.verdict, Verdict::warning);
  EXPECT_TRUE(contains(f.what, "behind another NAT: its REGISTER comes from 192.168.1.40:1024 but it names "
                               "192.168.178.20:5060"))
      << f.what;
  EXPECT_FALSE(has(extension({{"bindings", {binding("sip:10@192.168.1.20:5060;transport=udp", "192.168.1.20:5060")}}}),
                   "extension.10.nat"));
  EXPECT_FALSE(has(extension({{"bindings", {binding("sip:10@192.168.1.20:5060;transport=tcp", "192.168.1.20:40122",
                                                    "tcp")}}}),
                   "extension.10.nat"))
      << "a TCP connection's source port is never the Contact's";
  EXPECT_FALSE(has(extension({{"bindings", {binding("sip:10@phone.local", "192.168.1.20:5060")}}}), "extension.10.nat"));
}

TEST(HealthPhones, LastFailureShowsWhyWhenAndFromWhere) {
  json failure = {{"at", kNow - 120}, {"source", "192.168.1.50:5062"}, {"user", "10"}, {"reason", "wrong_password"},
                  {"method", "REGISTER"}};
  auto f = only(extension({{"bindings", json::array()}, {"last_register_failure", failure}}), "extension.10.last_failure");
  EXPECT_EQ(f.verdict, Verdict::problem) << "no phone registered: this is why";
  EXPECT_TRUE(contains(f.what, "a phone at 192.168.1.50 cannot log in on extension 10: the password did not match"))
      << f.what;
  EXPECT_TRUE(contains(f.evidence, "REGISTER from 192.168.1.50:5062 at 2023-11-14 23:")) << f.evidence;

  failure["at"] = kNow - 50;  // after the other phone's last REGISTER
  auto other = only(extension({{"bindings", {binding("sip:10@192.168.1.20:5060", "192.168.1.20:5060")}},
                               {"last_register_failure", failure}}),
                    "extension.10.last_failure");
  EXPECT_EQ(other.verdict, Verdict::warning) << "another phone is registered, this one is not";

  failure["at"] = kNow - 100;  // the second of the binding's last update: since counts it
  auto over = only(extension({{"bindings", {binding("sip:10@192.168.1.20:5060", "192.168.1.20:5060")}},
                              {"last_register_failure", failure}}),
                   "extension.10.last_failure");
  EXPECT_EQ(over.verdict, Verdict::ok);

  failure["at"] = kNow - 2 * 24 * 3600;
  EXPECT_FALSE(has(extension({{"bindings", json::array()}, {"last_register_failure", failure}}),
                   "extension.10.last_failure"))
      << "two days ago is history";

  failure["at"] = kNow - 10;
  failure["reason"] = "outside_lan";
  auto outside = only(extension({{"bindings", json::array()}, {"last_register_failure", failure}}),
                      "extension.10.last_failure");
  EXPECT_TRUE(contains(outside.what, "outside lan.networks")) << outside.what;
  EXPECT_TRUE(contains(outside.action, "lan.networks")) << outside.action;
}

TEST(HealthPhones, UnknownUsersAreOneWarning) {
  json s = {{"registrar", {{"unknown_user_failures", {{{"at", kNow - 5}, {"source", "10.9.9.9:5060"}, {"user", "admin"},
                                                       {"reason", "wrong_password"}, {"method", "REGISTER"}}}}}}};
  auto f = only(diagnose(s, at_now()), "registrar.unknown_users");
  EXPECT_EQ(f.verdict, Verdict::warning);
  EXPECT_TRUE(contains(f.evidence, "\"admin\" from 10.9.9.9:5060")) << f.evidence;
}

}  // namespace
}  // namespace b2bua::status

namespace b2bua::status {
namespace {

std::vector<Finding> relay(json pool) { return diagnose(json{{"relay", {{"pool", pool}}}}, LocalFacts{}); }

TEST(HealthMedia, PortsFreeHeldElsewhereOrExhausted) {
  json pool = {{"capacity", 500}, {"in_use", 2}, {"allocation_failures", 0}, {"taken_elsewhere", 0},
               {"last_failure", ""}, {"last_failure_at", 0}, {"probed", 16}, {"busy", json::array()}};
  auto free = relay(pool);
  ASSERT_EQ(free.size(), 1u);
  EXPECT_EQ(free[0].id, "media.ports");
  EXPECT_EQ(free[0].verdict, Verdict::ok);
  EXPECT_NE(free[0].evidence.find("2 of 500 port pairs in use; 16 free pairs probed, none held"), std::string::npos)
      << free[0].evidence;

  pool["busy"] = {20010};
  auto held = relay(pool);
  EXPECT_EQ(held[0].verdict, Verdict::warning);
  EXPECT_NE(held[0].evidence.find("held by another program: 20010"), std::string::npos) << held[0].evidence;

  pool["allocation_failures"] = 3;
  pool["last_failure"] = "port pool exhausted (20000-20999, 500 pairs in use)";
  pool["last_failure_at"] = 1'700'000'000;
  auto failed = relay(pool);
  EXPECT_EQ(failed[0].verdict, Verdict::problem);
  EXPECT_NE(failed[0].evidence.find("3 calls got no ports, the last at 2023-11-14 22:13 UTC: port pool exhausted"),
            std::string::npos)
      << failed[0].evidence;
  EXPECT_TRUE(diagnose(json{{"relay", {{"sessions", 0}}}}, LocalFacts{}).empty()) << "no pool: nothing said";
}

}  // namespace
}  // namespace b2bua::status
