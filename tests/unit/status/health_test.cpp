// The health rules (health.h): one test per rule, from snapshots as the features write them,
// and that a finding never shows a password.
#include "b2bua/status/health.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "b2bua/config/config_loader.h"
#include "b2bua/status/doctor_command.h"
#include "b2bua/status/local_facts.h"
#include "secret_config.h"
#include "health_test_support.h"
#include "status_test_support.h"

namespace b2bua::status {
namespace {

using nlohmann::json;

using namespace test;  // NOLINT: kNow, at_now, only, has, contains, trunk (health_test_support.h)

TEST(Health, RegisteredTrunkIsOk) {
  auto f = only(trunk({{"state", "registered"}, {"registered_until", kNow + 300}, {"last_status", 200},
                       {"last_phrase", "OK"}, {"server", "217.10.79.9:5060"}}),
                "trunk.sipgate.registration");
  EXPECT_EQ(f.verdict, Verdict::ok);
  EXPECT_TRUE(contains(f.what, "registered")) << f.what;
  EXPECT_TRUE(contains(f.evidence, "200 OK from 217.10.79.9:5060")) << f.evidence;
}

TEST(Health, RefusedCredentialsAreAProblemNamingTheTrunkAndTheAnswer) {
  auto f = only(trunk({{"state", "auth_failed"}, {"last_status", 403}, {"last_phrase", "Forbidden"},
                       {"server", "217.10.79.9:5060"}}),
                "trunk.sipgate.registration");
  EXPECT_EQ(f.verdict, Verdict::problem);
  EXPECT_TRUE(contains(f.what, "refuses the credentials of trunk sipgate")) << f.what;
  EXPECT_TRUE(contains(f.evidence, "403 Forbidden")) << f.evidence;
  EXPECT_TRUE(contains(f.action, "username (4930123456) and password of trunk sipgate")) << f.action;
}

TEST(Health, UnansweredRegistrationSaysTheProviderDoesNotAnswer) {
  auto backoff = only(trunk({{"state", "backoff"}, {"last_status", 408}, {"last_phrase", "Request Timeout"}}),
                      "trunk.sipgate.registration");
  EXPECT_EQ(backoff.verdict, Verdict::problem);
  EXPECT_TRUE(contains(backoff.what, "does not answer")) << backoff.what;
  EXPECT_TRUE(contains(backoff.evidence, "408 Request Timeout")) << backoff.evidence;
  EXPECT_TRUE(contains(backoff.action, "DNS")) << backoff.action;

  auto dns = only(trunk({{"state", "backoff"}, {"last_status", 0}, {"last_phrase", "DNS: no such name"}}),
                  "trunk.sipgate.registration");
  EXPECT_TRUE(contains(dns.evidence, "DNS: no such name")) << dns.evidence;

  auto first = only(trunk({{"state", "registering"}}), "trunk.sipgate.registration");
  EXPECT_EQ(first.verdict, Verdict::warning);
  EXPECT_TRUE(contains(first.evidence, "no answer yet")) << first.evidence;
}

TEST(Health, OtherRefusalsSayTheProviderDoesNotAccept) {
  auto f = only(trunk({{"state", "backoff"}, {"last_status", 500}, {"last_phrase", "Server Error"}}),
                "trunk.sipgate.registration");
  EXPECT_EQ(f.verdict, Verdict::problem);
  EXPECT_TRUE(contains(f.what, "does not accept")) << f.what;
  EXPECT_TRUE(contains(f.action, "500")) << f.action;
}

TEST(Health, DisabledOrNonRegisteringTrunksAreOk) {
  auto off = trunk({{"enabled", false}, {"state", "disabled"}});
  EXPECT_EQ(only(off, "trunk.sipgate.registration").verdict, Verdict::ok);
  EXPECT_EQ(off.size(), 1u) << "nothing else is said about a trunk that is off";
  auto ip = trunk({{"register", false}, {"state", "unregistered"}, {"public_address", ""}});
  EXPECT_EQ(only(ip, "trunk.sipgate.registration").verdict, Verdict::ok);
  EXPECT_FALSE(has(ip, "trunk.sipgate.public_address"));
}

TEST(Health, SipAlgIsAWarningWithTheTrunksRemedy) {
  auto f = only(trunk({{"state", "registered"}, {"alg_detected", true}}), "trunk.sipgate.alg");
  EXPECT_EQ(f.verdict, Verdict::warning);
  EXPECT_TRUE(contains(f.action, "switch off the SIP ALG")) << f.action;
  EXPECT_TRUE(contains(f.action, "wan.port")) << f.action;
  EXPECT_TRUE(contains(f.action, "5160")) << f.action;
  EXPECT_FALSE(has(trunk({{"state", "registered"}, {"alg_detected", false}}), "trunk.sipgate.alg"));
}

TEST(Health, PublicAddressTellsANatInFrontOrItsAbsence) {
  LocalFacts facts = at_now();
  facts.wan_address = "192.168.0.2";
  auto nat = only(trunk({{"state", "registered"}, {"public_address", "198.51.100.7:5060"}}, facts),
                  "trunk.sipgate.public_address");
  EXPECT_EQ(nat.verdict, Verdict::ok);
  EXPECT_TRUE(contains(nat.what, "behind a NAT")) << nat.what;
  EXPECT_TRUE(contains(nat.evidence, "198.51.100.7:5060")) << nat.evidence;

  facts.wan_address = "198.51.100.7";
  auto direct = only(trunk({{"state", "registered"}, {"public_address", "198.51.100.7:5060"}}, facts),
                     "trunk.sipgate.public_address");
  EXPECT_TRUE(contains(direct.what, "directly")) << direct.what;

  EXPECT_FALSE(has(trunk({{"state", "backoff"}, {"public_address", ""}}), "trunk.sipgate.public_address"))
      << "the registration finding already says why";
  auto own = only(trunk({{"state", "registered"}, {"public_address", ""}, {"contact", "sip:4930123456@198.51.100.7"}}),
                  "trunk.sipgate.public_address");
  EXPECT_EQ(own.verdict, Verdict::ok) << "a provider that names no other address sees ours";
  auto unknown = only(trunk({{"state", "registered"}, {"public_address", ""},
                             {"contact", "sip:4930123456@b2bua.invalid:5060"}}),
                      "trunk.sipgate.public_address");
  EXPECT_EQ(unknown.verdict, Verdict::warning);
  EXPECT_TRUE(contains(unknown.what, "does not know its public address")) << unknown.what;
}

TEST(Health, ExtensionWithoutPhoneIsAWarning) {
  auto findings = diagnose(test::full_snapshot(), at_now());
  auto empty = only(findings, "extension.11.phones");
  EXPECT_EQ(empty.verdict, Verdict::warning);
  EXPECT_TRUE(contains(empty.what, "nobody can ring here")) << empty.what;
  auto two = only(findings, "extension.10.phones");
  EXPECT_EQ(two.verdict, Verdict::ok);
  EXPECT_TRUE(contains(two.what, "2 phones")) << two.what;
  // A configured extension the registrar did not report: not known, so not said.
  EXPECT_FALSE(has(diagnose(json{{"extensions", {{{"number", "12"}}}}}, at_now()), "extension.12.phones"));
}

TEST(Health, PhoneSilentToOptionsIsAWarning) {
  auto f = only(diagnose(test::full_snapshot(), at_now()), "extension.10.qualify");
  EXPECT_EQ(f.verdict, Verdict::warning);
  EXPECT_TRUE(contains(f.what, "stopped answering")) << f.what;
  EXPECT_TRUE(contains(f.evidence, "192.168.1.21:5062")) << f.evidence;
}

TEST(Health, LockedExtensionIsAProblemWithUntilFailuresAndSources) {
  auto f = only(diagnose(test::full_snapshot(), at_now()), "extension.11.locked");
  EXPECT_EQ(f.verdict, Verdict::problem);
  EXPECT_TRUE(contains(f.what, "refused until 2023-11-14 23:28 UTC after 20 failed logins from 4 addresses")) << f.what;
  EXPECT_FALSE(f.action.empty());
}

TEST(Health, CallsBlockedByALimitAreAWarning) {
  json s = {{"extensions", {{{"number", "10"},
                             {"limits", {{"blocked", true}, {"blocked_by", "calls_per_hour"}, {"blocked_until", nullptr},
                                         {"calls_last_hour", 31}}}}}}};
  auto f = only(diagnose(s, at_now()), "extension.10.limits");
  EXPECT_EQ(f.verdict, Verdict::warning);
  EXPECT_TRUE(contains(f.evidence, "calls_per_hour")) << f.evidence;
  EXPECT_TRUE(contains(f.evidence, "until a reload")) << f.evidence;
  s["extensions"][0]["limits"]["blocked"] = false;
  EXPECT_FALSE(has(diagnose(s, at_now()), "extension.10.limits"));
}

TEST(Health, OneWayAudioOfARecentCallIsAWarningWithCallAndSide) {
  json call = {{"id", 7}, {"call_id", "abc@host"}, {"direction", "outbound"}, {"extension", "10"},
               {"trunk", "sipgate"}, {"remote_number", "+4930888"}, {"start_ms", (kNow - 600) * 1000},
               {"end_ms", (kNow - 500) * 1000}, {"notes", "route=sipgate one_way=wan:nothing_arrives"}};
  auto f = only(diagnose(json{{"recent_calls", {call}}}, at_now()), "call.7.one_way");
  EXPECT_EQ(f.verdict, Verdict::warning);
  EXPECT_TRUE(contains(f.what, "abc@host")) << f.what;
  EXPECT_TRUE(contains(f.what, "trunk sipgate")) << f.what;
  EXPECT_TRUE(contains(f.evidence, "side wan, cause nothing_arrives")) << f.evidence;
  EXPECT_TRUE(contains(f.action, "firewall")) << f.action;

  call["notes"] = "one_way=lan:stopped";
  EXPECT_TRUE(contains(only(diagnose(json{{"recent_calls", {call}}}, at_now()), "call.7.one_way").action,
                       "phone's network"));
  call["end_ms"] = (kNow - 2 * 86400) * 1000;
  EXPECT_FALSE(has(diagnose(json{{"recent_calls", {call}}}, at_now()), "call.7.one_way")) << "two days old: history";
}

TEST(Health, ConfigReadableByOthersWhileHoldingPasswordsIsAWarning) {
  LocalFacts facts = at_now();
  facts.config_path = "/etc/b2bua/b2bua.jsonc";
  facts.config_holds_secrets = true;
  facts.config_mode = 0644;
  auto f = only(diagnose(json::object(), facts), "config.permissions");
  EXPECT_EQ(f.verdict, Verdict::warning);
  EXPECT_TRUE(contains(f.evidence, "mode 0644")) << f.evidence;
  EXPECT_EQ(f.action, "chmod 640 /etc/b2bua/b2bua.jsonc");
  facts.config_mode = 0640;
  EXPECT_EQ(only(diagnose(json::object(), facts), "config.permissions").verdict, Verdict::ok);
  facts.config_mode = 0644;
  facts.config_holds_secrets = false;
  auto open = only(diagnose(json::object(), facts), "config.permissions");
  EXPECT_EQ(open.verdict, Verdict::ok);
  EXPECT_TRUE(contains(open.what, "holds no password")) << open.what;
}

TEST(Health, WeakSecretsAreProblemsThatNeverShowThePassword) {
  auto loaded = config::load_config_text(R"({
    "lan": {"listen": ["udp:127.0.0.1:18081"], "networks": ["127.0.0.0/8"]},
    "wan": {"address": "127.0.0.1", "port": 18082},
    "extensions": [{"number": "10", "password": "Qz7w"}, {"number": "11", "password": "11"},
                   {"number": "12", "password": "long-enough-Kp93"}],
    "trunks": [{"name": "sipgate", "registrar": "sip:127.0.0.1:18083", "username": "joe-user-4930",
                "password": "joe-user-4930"}],
    "storage": {"path": "unused.db"}
  })", "/tmp/health-test.jsonc");
  ASSERT_TRUE(loaded.ok()) << loaded.errors.front().to_string("config");
  LocalFacts facts = at_now();
  facts.weak_secrets = weak_secrets(*loaded.config);
  ASSERT_EQ(facts.weak_secrets.size(), 3u);
  auto findings = diagnose(json::object(), facts);
  auto short_one = only(findings, "secret.extension.10");
  EXPECT_EQ(short_one.verdict, Verdict::problem);
  EXPECT_TRUE(contains(short_one.evidence, "shorter than")) << short_one.evidence;
  EXPECT_TRUE(contains(only(findings, "secret.extension.11").evidence, "own number"));
  EXPECT_TRUE(contains(only(findings, "secret.trunk.sipgate").evidence, "the trunk's username"));
  EXPECT_FALSE(has(findings, "secret.extension.12"));
  const std::string text = to_json(findings).dump() + render_findings_text(to_json(findings));
  EXPECT_FALSE(contains(text, "Qz7w")) << text;
  EXPECT_FALSE(contains(text, "joe-user-4930")) << text;
}

TEST(Health, UnwritableDatabaseIsAProblem) {
  LocalFacts facts = at_now();
  facts.database_path = "/nonexistent/b2bua.db";
  facts.database_unwritable = database_unwritable(facts.database_path);
  ASSERT_TRUE(facts.database_unwritable);
  auto f = only(diagnose(json::object(), facts), "storage.writable");
  EXPECT_EQ(f.verdict, Verdict::problem);
  EXPECT_TRUE(contains(f.evidence, "/nonexistent/b2bua.db")) << f.evidence;
  facts.database_unwritable.reset();
  EXPECT_EQ(only(diagnose(json::object(), facts), "storage.writable").verdict, Verdict::ok);
}

TEST(Health, ClockBeforeTheBuildIsAProblem) {
  LocalFacts facts = at_now();
  facts.built_s = kNow;
  facts.now_s = 946'684'800;  // 2000-01-01: a router without a battery-backed clock, before NTP
  auto f = only(diagnose(json::object(), facts), "clock");
  EXPECT_EQ(f.verdict, Verdict::problem);
  EXPECT_TRUE(contains(f.evidence, "2000-01-01 00:00 UTC")) << f.evidence;
  EXPECT_TRUE(contains(f.action, "NTP")) << f.action;
  facts.now_s = kNow + 1;
  EXPECT_EQ(only(diagnose(json::object(), facts), "clock").verdict, Verdict::ok);
  EXPECT_GT(build_time_s(), 1'700'000'000) << "the build knows when it was made";
}

TEST(Health, NoSecretInAnyFindingOfAFullSnapshot) {
  auto loaded = config::load_config_text(test::kSecretConfig, "/tmp/health-secrets.jsonc");
  ASSERT_TRUE(loaded.ok());
  LocalFacts facts = at_now();
  facts.weak_secrets = weak_secrets(*loaded.config);
  facts.config_holds_secrets = true;
  facts.config_mode = 0644;
  const std::string text = to_json(diagnose(test::full_snapshot(), facts)).dump();
  for (const auto& secret : test::kSecrets) EXPECT_FALSE(contains(text, secret)) << secret << " in " << text;
}

// The config file gathered as the daemon does: its mode, its weak secrets, its database; parsed
// again once it changes.
TEST(LocalFacts, GatheredFromTheConfigFile) {
  namespace fs = std::filesystem;
  std::string dir = (fs::temp_directory_path() / "b2bua-health-XXXXXX").string();
  ASSERT_TRUE(::mkdtemp(dir.data()));
  const std::string path = dir + "/b2bua.jsonc";
  auto write = [&](const std::string& password) {
    std::ofstream(path) << R"({"lan": {"listen": ["udp:127.0.0.1:18081"], "networks": ["127.0.0.0/8"]},
      "wan": {"address": "127.0.0.1", "port": 18082},
      "extensions": [{"number": "10", "password": ")" << password << R"("}],
      "storage": {"path": "b2bua.db"}})";
  };
  write("Qz7w");
  ::chmod(path.c_str(), 0644);
  LocalFactsSource source(path);
  LocalFacts facts = source.gather();
  ASSERT_TRUE(facts.config_mode);
  EXPECT_EQ(*facts.config_mode, 0644u);
  EXPECT_TRUE(facts.config_holds_secrets);
  ASSERT_EQ(facts.weak_secrets.size(), 1u);
  EXPECT_EQ(facts.weak_secrets[0].name, "10");
  EXPECT_EQ(facts.database_path, dir + "/b2bua.db");
  EXPECT_TRUE(facts.database_unwritable) << "no database file yet";
  EXPECT_EQ(facts.wan_address, "127.0.0.1");

  write("a-much-longer-Pw55");
  facts = source.gather();
  EXPECT_TRUE(facts.weak_secrets.empty()) << "the changed file is read again";
  fs::remove_all(dir);
}

TEST(Doctor, PrintsProblemsFirstAndExitsByTheWorstVerdict) {
  std::vector<Finding> findings = {{"a", Verdict::ok, "all fine", "e1", ""},
                                   {"b", Verdict::warning, "a warning", "e2", "do w"},
                                   {"c", Verdict::problem, "a problem", "e3", "do p"}};
  json j = to_json(findings);
  std::string text = render_findings_text(j);
  EXPECT_LT(text.find("a problem"), text.find("a warning")) << text;
  EXPECT_LT(text.find("a warning"), text.find("all fine")) << text;
  EXPECT_TRUE(contains(text, "evidence: e3")) << text;
  EXPECT_TRUE(contains(text, "do this:  do p")) << text;
  EXPECT_TRUE(contains(text, "1 problem, 1 warning, 1 ok")) << text;
  EXPECT_EQ(findings_exit_code(j), 2);
  j.erase(2);
  EXPECT_EQ(findings_exit_code(j), 1);
  j.erase(1);
  EXPECT_EQ(findings_exit_code(j), 0);
  EXPECT_TRUE(contains(render_findings_text(j), "All good")) << render_findings_text(j);
}

TEST(Doctor, NoDaemonExitsTwoNamingTheAddress) {
  namespace fs = std::filesystem;
  std::string dir = (fs::temp_directory_path() / "b2bua-doctor-XXXXXX").string();
  ASSERT_TRUE(::mkdtemp(dir.data()));
  const std::string path = dir + "/b2bua.jsonc";
  // Port 9 (discard) on loopback: nothing listens there in a test environment.
  std::ofstream(path) << R"({"lan": {"listen": ["udp:127.0.0.1:18081"], "networks": ["127.0.0.0/8"]},
    "wan": {"address": "127.0.0.1", "port": 18082}, "status": {"listen": "127.0.0.1:9"}})";
  char* text = nullptr;
  size_t size = 0;
  FILE* err = ::open_memstream(&text, &size);
  EXPECT_EQ(run_doctor_command(path, false, stdout, err), 2);
  std::fclose(err);
  EXPECT_TRUE(contains(text, "b2bua doctor:")) << text;
  EXPECT_TRUE(contains(text, "127.0.0.1:9")) << text;
  std::free(text);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace b2bua::status
