#include "b2bua/config/config_loader.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace b2bua::config {
namespace {

const char* kMinimal = R"({
  "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"] }
})";

LoadResult load(const std::string& text) { return load_config_text(text, "/etc/b2bua/b2bua.jsonc"); }

// The single error whose path is `path`; fails the test when there is not exactly one.
const ConfigError& error_at(const LoadResult& r, const std::string& path) {
  auto n = std::count_if(r.errors.begin(), r.errors.end(), [&](const ConfigError& e) { return e.path == path; });
  EXPECT_EQ(n, 1) << "errors at " << path;
  static ConfigError none;
  auto it = std::find_if(r.errors.begin(), r.errors.end(), [&](const ConfigError& e) { return e.path == path; });
  return it == r.errors.end() ? none : *it;
}

TEST(ConfigLoader, MinimalConfigGetsDefaults) {
  auto r = load(kMinimal);
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].message);
  const Config& c = *r.config;
  EXPECT_EQ(c.lan.listen.at(0).host, "192.168.1.1");
  EXPECT_EQ(c.lan.listen.at(0).port, 5060);
  EXPECT_EQ(c.lan.realm, "home.arpa");
  EXPECT_EQ(c.registrar.min_expires, 60);
  EXPECT_EQ(c.media.port_min, 20000);
  EXPECT_EQ(c.storage.path, "/var/lib/b2bua/b2bua.db");
  EXPECT_EQ(c.status.listen, "127.0.0.1:8088");
  EXPECT_TRUE(c.lan.contains("192.168.1.77"));
  EXPECT_FALSE(c.lan.contains("192.168.2.77"));
}

TEST(ConfigLoader, ShippedFilesAreValid) {
  for (const char* file : {"/etc/b2bua.jsonc", "/etc/example-full.jsonc"}) {
    auto r = load_config_file(std::string(B2BUA_SOURCE_DIR) + file);
    EXPECT_TRUE(r.ok()) << file << ": " << (r.errors.empty() ? "" : r.errors[0].to_string(file));
  }
  auto full = load_config_file(std::string(B2BUA_SOURCE_DIR) + "/etc/example-full.jsonc");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full.config->trunks.at(0).keepalive.interval, 20);
  EXPECT_EQ(full.config->trunks.at(0).binding_check, 30);
  EXPECT_EQ(full.config->storage.call_records_max, 10000);
  EXPECT_EQ(full.config->storage.call_records_days, 90);
  EXPECT_EQ(full.config->extensions.at(1).ha1.value(), "5f4dcc3b5aa765d61d8327deb882cf99");
}

TEST(ConfigLoader, TlsTrunkNeedsAnExistingCaDirectory) {
  const char* text = R"({
  "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"] },
  "wan": { "address": "203.0.113.2", "tls_ca_dir": "/nonexistent/cas" },
  "trunks": [ { "name": "p", "registrar": "sip:sip.example.net", "transport": "tls",
                "username": "u", "password": "p" } ]
})";
  auto r = load(text);
  const auto& e = error_at(r, "wan.tls_ca_dir");
  EXPECT_EQ(e.line, 3);
  EXPECT_NE(e.message.find("'/nonexistent/cas' is not a directory"), std::string::npos) << e.message;
  std::string udp = text;
  udp.replace(udp.find("\"tls\""), 5, "\"udp\"");
  EXPECT_TRUE(load(udp).errors.empty()) << "without a TLS trunk the directory is never used";
}

TEST(ConfigLoader, SyntaxErrorNamesLineAndColumn) {
  auto r = load("{\n  \"lan\": {\n    \"listen\": [\"udp:1.2.3.4\"],,\n  }\n}");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_NE(r.errors[0].message.find("syntax error"), std::string::npos);
}

TEST(ConfigLoader, UnknownKeySuggestsClosest) {
  auto r = load(R"({
  "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"], "relam": "x" }
})");
  ASSERT_FALSE(r.ok());
  const auto& e = error_at(r, "lan.relam");
  EXPECT_NE(e.message.find("did you mean 'realm'"), std::string::npos) << e.message;
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.column, 80);  // the key itself
}

TEST(ConfigLoader, ReportsEveryErrorAtOnceInFileOrder) {
  auto r = load(R"({
  "lan": { "listen": ["udp:0.0.0.0:5060"], "networks": ["10.0.0.0/33"] },
  "wan": { "address": "203.0.113.2", "port": 70000 },
  "extensions": [ {"number": "10", "password": "a"}, {"number": "10", "password": "b", "max_calls": "2"},
                  {"number": "12"}, {"number": "13", "password": "x", "ha1": "00"} ],
  "trunks": [ { "name": "p", "registrar": "sip.example.net", "username": "u", "password": "x",
                "keepalive": {"method": "ping", "interval": 1} } ],
  "routing": { "outbound": [ {"prefix": "0", "trunk": "nope"} ], "inbound": [{"number": "1", "ring": ["99"]}] },
  "media": { "ports": [30000, 20000] },
  "status": { "listen": "192.168.1.1:8088" }
})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(error_at(r, "lan.listen[0]").message.find("wildcard"), std::string::npos);
  EXPECT_NE(error_at(r, "lan.networks[0]").message.find("not a network"), std::string::npos);
  EXPECT_NE(error_at(r, "wan.port").message.find("out of range"), std::string::npos);
  EXPECT_NE(error_at(r, "extensions[1].number").message.find("duplicate extension"), std::string::npos);
  EXPECT_NE(error_at(r, "extensions[1].max_calls").message.find("expected an integer"), std::string::npos);
  EXPECT_NE(error_at(r, "extensions[2]").message.find("needs a 'password' or an 'ha1'"), std::string::npos);
  EXPECT_EQ(std::count_if(r.errors.begin(), r.errors.end(),
                          [](const ConfigError& e) { return e.path.rfind("extensions[3]", 0) == 0; }),
            2);  // both password and ha1, and ha1 malformed
  EXPECT_NE(error_at(r, "trunks[0].registrar").message.find("SIP URI"), std::string::npos);
  EXPECT_NE(error_at(r, "trunks[0].keepalive.method").message.find("crlf, options, off"), std::string::npos);
  EXPECT_NE(error_at(r, "trunks[0].keepalive.interval").message.find("out of range"), std::string::npos);
  EXPECT_NE(error_at(r, "routing.outbound[0].trunk").message.find("unknown trunk 'nope'"), std::string::npos);
  EXPECT_NE(error_at(r, "routing.inbound[0].ring[0]").message.find("unknown extension"), std::string::npos);
  EXPECT_NE(error_at(r, "media.ports").message.find("first < last"), std::string::npos);
  EXPECT_NE(error_at(r, "status.listen").message.find("loopback"), std::string::npos);
  for (size_t i = 1; i < r.errors.size(); ++i) {
    EXPECT_LE(std::tie(r.errors[i - 1].line, r.errors[i - 1].column), std::tie(r.errors[i].line, r.errors[i].column));
  }
  for (const auto& e : r.errors) EXPECT_GT(e.line, 0) << e.path;
}

TEST(ConfigLoader, WrongTypesAndMissingRequired) {
  auto r = load(R"({ "lan": { "listen": "udp:1.2.3.4:5060" }, "log": { "level": "loud" }, "calls": 3 })");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(error_at(r, "lan.listen").message.find("expected an array, found a string"), std::string::npos);
  EXPECT_NE(error_at(r, "lan").message.find("missing required key 'networks'"), std::string::npos);
  EXPECT_NE(error_at(r, "log.level").message.find("not one of"), std::string::npos);
  EXPECT_NE(error_at(r, "calls").message.find("expected an object"), std::string::npos);
}

TEST(ConfigLoader, DuplicateKeyIsAnError) {
  auto r = load(R"({ "lan": { "listen": ["udp:1.2.3.4:5060"], "networks": ["1.2.3.0/24"], "realm": "a", "realm": "b" } })");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(error_at(r, "lan.realm").message.find("given twice"), std::string::npos);
}

TEST(ConfigLoader, PasswordGuardKeys) {
  auto defaults = load(kMinimal);
  ASSERT_TRUE(defaults.ok());
  const Registrar& d = defaults.config->registrar;
  EXPECT_EQ(d.block_after_failures, 5);
  EXPECT_EQ(d.block_window, 60);
  EXPECT_EQ(d.block_duration, 600);
  EXPECT_EQ(d.lock_after_failures, 20);
  EXPECT_EQ(d.lock_min_sources, 3);
  EXPECT_EQ(d.lock_window, 600);
  EXPECT_EQ(d.lock_duration, 900);

  auto r = load(R"({
  "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"] },
  "registrar": { "lock_after_failures": 4, "lock_min_sources": 5, "lock_window": 0, "lock_duration": -1 }
})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(error_at(r, "registrar.lock_min_sources").message.find("larger than registrar.lock_after_failures"),
            std::string::npos);
  EXPECT_NE(error_at(r, "registrar.lock_window").message.find("out of range"), std::string::npos);
  EXPECT_NE(error_at(r, "registrar.lock_duration").message.find("out of range"), std::string::npos);
  EXPECT_EQ(error_at(r, "registrar.lock_window").line, 3);
}

TEST(ConfigLoader, EnabledTrunkNeedsWanAddressAndPassword) {
  auto r = load(R"({
  "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"] },
  "trunks": [ { "name": "p", "registrar": "sip:sip.example.net", "username": "u" } ]
})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(error_at(r, "wan").message.find("wan.address"), std::string::npos);
  EXPECT_NE(error_at(r, "trunks[0].password").message.find("needs a password"), std::string::npos);
}

TEST(ConfigLoader, BindingCheckIsOffOrAtLeastTenSeconds) {
  auto trunk = [](const std::string& check) {
    return load(R"({
  "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"] },
  "wan": { "address": "203.0.113.5" },
  "trunks": [ { "name": "p", "registrar": "sip:sip.example.net", "username": "u", "password": "pw-4930a",
                "binding_check": )" + check + R"( } ]
})");
  };
  auto off = trunk("0");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off.config->trunks.at(0).binding_check, 0);
  auto every_minute = trunk("60");
  ASSERT_TRUE(every_minute.ok());
  EXPECT_EQ(every_minute.config->trunks.at(0).binding_check, 60);
  EXPECT_NE(error_at(trunk("5"), "trunks[0].binding_check").message.find("at least 10 seconds"), std::string::npos);
  EXPECT_NE(error_at(trunk("-1"), "trunks[0].binding_check").message.find("out of range"), std::string::npos);
}

LoadResult with_lan(const std::string& listen, const std::string& password, const std::string& token = "") {
  return load(R"({
  "lan": { "listen": [")" + listen + R"("], "networks": ["192.168.1.0/24", "127.0.0.0/8"] },
  "extensions": [ { "number": "10", "password": ")" + password + R"(" },
                  { "number": "11", "ha1": "5f4dcc3b5aa765d61d8327deb882cf99" } ])" +
              (token.empty() ? "" : R"(, "status": { "token": ")" + token + R"(" })") + "}");
}

TEST(ConfigLoader, WeakSecretsStopALanFacingDaemon) {
  const std::string lan = "udp:192.168.1.1:5060";
  EXPECT_NE(error_at(with_lan(lan, "change-me-10"), "extensions[0].password").message.find("placeholder"),
            std::string::npos);
  EXPECT_NE(error_at(with_lan(lan, "CHANGE-ME-please-123"), "extensions[0].password").message.find("placeholder"),
            std::string::npos);
  EXPECT_NE(error_at(with_lan(lan, "10"), "extensions[0].password").message.find("own number"), std::string::npos);
  EXPECT_NE(error_at(with_lan(lan, "Xy7-short"), "extensions[0].password").message.find("shorter than 10"),
            std::string::npos);
  EXPECT_NE(error_at(with_lan(lan, "kitchen-7Fq2-Wx", "change-me-token-0123"), "status.token").message.find("placeholder"),
            std::string::npos);
  EXPECT_TRUE(with_lan(lan, "kitchen-7Fq2-Wx").ok()) << "a real password; the ha1 extension cannot be judged";
}

TEST(ConfigLoader, WeakSecretsAreFineOnLoopback) {
  // The shipped default and every test listen on loopback: nobody else can guess.
  EXPECT_TRUE(with_lan("udp:127.0.0.1:5060", "change-me-10").ok());
  EXPECT_TRUE(with_lan("udp:127.0.0.1:5060", "10").ok());
}

TEST(ConfigLoader, WanRejectsWildcardAndNames) {
  auto r = load(R"({
  "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"] },
  "wan": { "address": "0.0.0.0" }
})");
  EXPECT_NE(error_at(r, "wan.address").message.find("wildcard"), std::string::npos);
  r = load(R"({
  "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"] },
  "wan": { "address": "router.local" }
})");
  EXPECT_NE(error_at(r, "wan.address").message.find("not an IP address"), std::string::npos);
}

TEST(ConfigLoader, RemoteStatusNeedsOptInAndToken) {
  std::string base = R"({ "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"] }, "status": )";
  auto r = load(base + R"({ "listen": "192.168.1.1:8088", "allow_remote": true } })");
  EXPECT_NE(error_at(r, "status.token").message.find("token"), std::string::npos);
  r = load(base + R"({ "listen": "192.168.1.1:8088", "allow_remote": true, "token": "0123456789abcdef" } })");
  EXPECT_TRUE(r.ok());
}

TEST(ConfigLoader, RelativeStoragePathFollowsConfigFile) {
  auto r = load_config_text(R"({ "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"] },
                                 "storage": { "path": "state/b2bua.db" } })",
                            "/opt/b2bua/etc/b2bua.jsonc");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->storage.path, "/opt/b2bua/etc/state/b2bua.db");
}

TEST(ConfigLoader, LanListenSharesOneAddress) {
  auto r = load(R"({ "lan": { "listen": ["udp:192.168.1.1:5060", "tcp:192.168.1.2:5060"], "networks": ["192.168.1.0/24"] } })");
  EXPECT_NE(error_at(r, "lan.listen[1]").message.find("share one address"), std::string::npos);
}

TEST(ConfigLoader, UnreadableFileIsAnError) {
  auto r = load_config_file("/nonexistent/b2bua.jsonc");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors.at(0).message.find("cannot read"), std::string::npos);
}

// What an extension may call and spend: the defaults keep premium and international out and
// stop a runaway extension within minutes; limits sets them for all, an extension for itself.
TEST(ConfigLoader, AllowListAndLimitsDefaultsAndOverrides) {
  auto r = load(R"({
  "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"] },
  "limits": { "calls_per_hour": 10, "cooldown_s": 600 },
  "extensions": [ { "number": "10", "password": "pw-ten-Kx82q" },
                  { "number": "11", "password": "pw-eleven-Jr4", "allow": ["national", "international"],
                    "limits": { "concurrent_external": 1, "max_duration_s": 60 } } ]
})");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string("config"));
  using number::DestinationClass;
  const Extension& ten = r.config->extensions.at(0);
  EXPECT_EQ(ten.allow, kDefaultAllow);
  EXPECT_FALSE(ten.allows(DestinationClass::international));
  EXPECT_FALSE(ten.allows(DestinationClass::premium));
  EXPECT_TRUE(ten.allows(DestinationClass::mobile));
  EXPECT_EQ(ten.limits.calls_per_hour, 10);
  EXPECT_EQ(ten.limits.concurrent_external, 2);
  EXPECT_EQ(ten.limits.max_duration_s, 14400);
  const Extension& eleven = r.config->extensions.at(1);
  EXPECT_TRUE(eleven.allows(DestinationClass::international));
  EXPECT_FALSE(eleven.allows(DestinationClass::mobile));
  EXPECT_TRUE(eleven.allows(DestinationClass::emergency)) << "emergency is never refused";
  EXPECT_EQ(eleven.limits.calls_per_hour, 10);
  EXPECT_EQ(eleven.limits.concurrent_external, 1);
  EXPECT_EQ(eleven.limits.max_duration_s, 60);
  EXPECT_EQ(r.config->limits.cooldown_s, 600);
  auto defaults = load(kMinimal);
  EXPECT_EQ(defaults.config->limits.cooldown_s, 3600);
  EXPECT_EQ(defaults.config->limits.defaults.calls_per_hour, 30);
}

TEST(ConfigLoader, ClassesAndDenyRulesAreValidated) {
  auto r = load(R"({
  "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"] },
  "limits": { "calls_per_hour": -1 },
  "extensions": [ { "number": "10", "password": "pw-ten-Kx82q", "allow": ["national", "expensive"],
                    "limits": { "max_duration": 5 } } ],
  "routing": {
    "country": "FR",
    "classes": { "mobile": ["0900"], "premium": ["0900", "09x", "+49137"], "emergency": ["112"], "cheap": [] },
    "outbound": [ { "prefix": "0900", "trunk": null }, { "prefix": "0" } ]
  }
})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(error_at(r, "limits.calls_per_hour").message.find("out of range"), std::string::npos);
  const auto& allow = error_at(r, "extensions[0].allow[1]");
  EXPECT_EQ(allow.line, 4);
  EXPECT_NE(allow.message.find("unknown class 'expensive'; one of: emergency, internal, national, mobile, "
                               "international, premium"), std::string::npos) << allow.message;
  EXPECT_NE(error_at(r, "extensions[0].limits.max_duration").message.find("did you mean 'max_duration_s'"),
            std::string::npos);
  EXPECT_NE(error_at(r, "routing.country").message.find("one of: DE, generic"), std::string::npos);
  EXPECT_NE(error_at(r, "routing.classes.premium[1]").message.find("prefix"), std::string::npos);
  EXPECT_NE(error_at(r, "routing.classes.premium[0]").message.find("already in routing.classes.mobile"),
            std::string::npos);
  EXPECT_NE(error_at(r, "routing.classes.emergency").message.find("routing.emergency"), std::string::npos);
  EXPECT_NE(error_at(r, "routing.classes.premium[2]").message.find("write 0137"), std::string::npos);
  const auto& cheap = error_at(r, "routing.classes.cheap");
  EXPECT_NE(cheap.message.find("one of: national, mobile, international, premium"), std::string::npos) << cheap.message;
  EXPECT_EQ(cheap.line, 8);
  EXPECT_NE(error_at(r, "routing.outbound[1]").message.find("missing required key 'trunk'"), std::string::npos);
  for (const auto& e : r.errors) EXPECT_NE(e.path, "routing.outbound[0].trunk") << "null is a deny rule";
}


const char* kLanAndWan = R"(
  "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"] },
  "wan": { "address": "203.0.113.5" },)";

// What a phone can later switch with feature codes starts from these values.
TEST(ConfigLoader, ForwardingDndAndCallWaitingAreRead) {
  auto r = load(std::string("{") + kLanAndWan + R"(
  "extensions": [ { "number": "10", "password": "pw-ten-Kx82q", "dnd": true, "call_waiting": false,
                    "forward": { "always": null, "busy": "11", "no_answer": "+4915112345678",
                                 "unregistered": "030123456", "no_answer_after": 45 } },
                  { "number": "11", "password": "pw-eleven-Jr4" } ]
})");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string("config"));
  const Extension& ten = r.config->extensions.at(0);
  EXPECT_FALSE(ten.forward.always);
  EXPECT_EQ(ten.forward.busy, "11");
  EXPECT_EQ(ten.forward.no_answer, "+4915112345678");
  EXPECT_EQ(ten.forward.unregistered, "030123456");
  EXPECT_EQ(ten.forward.no_answer_after, 45);
  EXPECT_TRUE(ten.dnd);
  EXPECT_FALSE(ten.call_waiting);
  const Extension& eleven = r.config->extensions.at(1);
  EXPECT_EQ(eleven.forward, Forwarding{});
  EXPECT_EQ(eleven.forward.no_answer_after, 20);
  EXPECT_FALSE(eleven.dnd);
  EXPECT_TRUE(eleven.call_waiting);
}

TEST(ConfigLoader, ForwardingErrorsNameTheirPath) {
  auto r = load(std::string("{") + kLanAndWan + R"(
  "extensions": [ { "number": "10", "password": "pw-ten-Kx82q", "dnd": "yes", "call_waiting": 1,
                    "forward": { "always": "sip:bob@example.net", "busy": 11, "no_answer": "",
                                 "unregistred": "12", "no_answer_after": 3 } },
                  { "number": "11", "password": "pw-eleven-Jr4", "forward": { "no_answer_after": 301 } },
                  { "number": "12", "password": "pw-twelve-Mq7", "forward": "13" } ]
})");
  ASSERT_FALSE(r.ok());
  const auto& always = error_at(r, "extensions[0].forward.always");
  EXPECT_NE(always.message.find("expected an extension or a phone number"), std::string::npos) << always.message;
  EXPECT_EQ(always.line, 5);
  EXPECT_NE(error_at(r, "extensions[0].forward.busy").message.find("expected a string"), std::string::npos);
  EXPECT_NE(error_at(r, "extensions[0].forward.no_answer").message.find("must not be empty"), std::string::npos);
  EXPECT_NE(error_at(r, "extensions[0].forward.unregistred").message.find("did you mean 'unregistered'"),
            std::string::npos);
  EXPECT_NE(error_at(r, "extensions[0].forward.no_answer_after").message.find("out of range [5, 300]"),
            std::string::npos);
  EXPECT_NE(error_at(r, "extensions[1].forward.no_answer_after").message.find("out of range"), std::string::npos);
  EXPECT_NE(error_at(r, "extensions[2].forward").message.find("expected an object"), std::string::npos);
  EXPECT_NE(error_at(r, "extensions[0].dnd").message.find("expected true or false"), std::string::npos);
  EXPECT_NE(error_at(r, "extensions[0].call_waiting").message.find("expected true or false"), std::string::npos);
}

TEST(ConfigLoader, ForwardingToItselfIsAnError) {
  auto r = load(std::string("{") + kLanAndWan + R"(
  "extensions": [ { "number": "10", "password": "pw-ten-Kx82q",
                    "forward": { "always": "11", "busy": "10", "unregistered": "10" } },
                  { "number": "11", "password": "pw-eleven-Jr4", "forward": { "no_answer": "10" } } ]
})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors.size(), 2u);
  const auto& busy = error_at(r, "extensions[0].forward.busy");
  EXPECT_NE(busy.message.find("forwards to itself"), std::string::npos) << busy.message;
  EXPECT_EQ(busy.line, 5);
  EXPECT_NE(error_at(r, "extensions[0].forward.unregistered").message.find("forwards to itself"), std::string::npos);
}

TEST(ConfigLoader, TrunkForwardCallerId) {
  auto trunk = [](const std::string& extra) {
    return load(std::string("{") + kLanAndWan + R"(
  "trunks": [ { "name": "p", "registrar": "sip:sip.example.net", "username": "u", "password": "pw-4930a")" +
                extra + R"( } ]
})");
  };
  auto defaults = trunk("");
  ASSERT_TRUE(defaults.ok()) << (defaults.errors.empty() ? "" : defaults.errors[0].to_string("config"));
  EXPECT_EQ(defaults.config->trunks.at(0).forward_caller_id, Trunk::ForwardCallerId::trunk);
  auto caller = trunk(R"(, "forward_caller_id": "caller")");
  ASSERT_TRUE(caller.ok());
  EXPECT_EQ(caller.config->trunks.at(0).forward_caller_id, Trunk::ForwardCallerId::caller);
  EXPECT_NE(error_at(trunk(R"(, "forward_caller_id": "original")"), "trunks[0].forward_caller_id")
                .message.find("not one of: caller, trunk"),
            std::string::npos);
}

TEST(ConfigLoader, BlockListsAreRead) {
  auto r = load(std::string("{") + kLanAndWan + R"(
  "extensions": [ { "number": "10", "password": "pw-ten-Kx82q" } ],
  "routing": {
    "block": { "numbers": ["+4930999999", "0301234567"], "prefixes": ["0900", "+44"], "anonymous": true },
    "inbound": [ { "number": "+4930123456", "ring": ["10"], "block": { "numbers": ["0171555555"], "answer": 486 } },
                 { "number": "+4930123457", "ring": ["10"] } ]
  }
})");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string("config"));
  const BlockList& global = r.config->routing.block;
  EXPECT_EQ(global.numbers, (std::vector<std::string>{"+4930999999", "0301234567"}));
  EXPECT_EQ(global.prefixes, (std::vector<std::string>{"0900", "+44"}));
  EXPECT_TRUE(global.anonymous);
  EXPECT_EQ(global.answer, 603);
  const BlockList& did = r.config->routing.inbound.at(0).block;
  EXPECT_EQ(did.numbers, (std::vector<std::string>{"0171555555"}));
  EXPECT_TRUE(did.prefixes.empty());
  EXPECT_FALSE(did.anonymous);
  EXPECT_EQ(did.answer, 486);
  EXPECT_EQ(r.config->routing.inbound.at(1).block, BlockList{});
  EXPECT_EQ(load(kMinimal).config->routing.block, BlockList{});
}

TEST(ConfigLoader, BlockListErrorsNameTheirPath) {
  auto r = load(std::string("{") + kLanAndWan + R"(
  "extensions": [ { "number": "10", "password": "pw-ten-Kx82q" } ],
  "routing": {
    "block": { "numbers": ["+4930999999", "anonymous", 49], "prefixes": ["+", "09 00"], "anonymous": "yes",
               "answer": 404 },
    "inbound": [ { "number": "+4930123456", "ring": ["10"], "block": { "nubmers": [], "answer": "486" } },
                 { "number": "+4930123457", "ring": ["10"], "block": ["+4930999999"] } ]
  }
})");
  ASSERT_FALSE(r.ok());
  const auto& name = error_at(r, "routing.block.numbers[1]");
  EXPECT_NE(name.message.find("expected a phone number"), std::string::npos) << name.message;
  EXPECT_EQ(name.line, 6);
  EXPECT_NE(error_at(r, "routing.block.numbers[2]").message.find("expected a string"), std::string::npos);
  EXPECT_NE(error_at(r, "routing.block.prefixes[0]").message.find("expected a prefix like 0900 or +44"),
            std::string::npos);
  EXPECT_NE(error_at(r, "routing.block.prefixes[1]").message.find("expected a prefix"), std::string::npos);
  EXPECT_NE(error_at(r, "routing.block.anonymous").message.find("expected true or false"), std::string::npos);
  const auto& answer = error_at(r, "routing.block.answer");
  EXPECT_NE(answer.message.find("expected 603 (Decline) or 486 (Busy Here)"), std::string::npos) << answer.message;
  EXPECT_EQ(answer.line, 7);
  EXPECT_NE(error_at(r, "routing.inbound[0].block.nubmers").message.find("did you mean 'numbers'"),
            std::string::npos);
  EXPECT_NE(error_at(r, "routing.inbound[0].block.answer").message.find("expected an integer"), std::string::npos);
  EXPECT_NE(error_at(r, "routing.inbound[1].block").message.find("expected an object"), std::string::npos);
  EXPECT_EQ(r.errors.size(), 9u);
}

// A list of trunks: the next is tried when one fails; every name must exist, once.
TEST(ConfigLoader, OutboundTrunkListForm) {
  std::string trunks = R"(
  "trunks": [ { "name": "provider", "registrar": "sip:sip.example.net", "username": "u", "password": "pw-4930a" },
              { "name": "backup", "registrar": "sip:sip.example.org", "username": "v", "password": "pw-4930b" } ],)";
  auto r = load(std::string("{") + kLanAndWan + trunks + R"(
  "routing": { "outbound": [ { "prefix": "0900", "trunk": null }, { "prefix": "0", "trunk": ["provider", "backup"] },
                             { "prefix": "", "trunk": "backup" } ] }
})");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string("config"));
  const auto& out = r.config->routing.outbound;
  EXPECT_TRUE(out.at(0).trunks.empty());
  EXPECT_EQ(out.at(1).trunks, (std::vector<std::string>{"provider", "backup"}));
  EXPECT_EQ(out.at(2).trunks, (std::vector<std::string>{"backup"}));

  auto bad = load(std::string("{") + kLanAndWan + trunks + R"(
  "routing": { "outbound": [ { "prefix": "0", "trunk": ["provider", "spare"] },
                             { "prefix": "1", "trunk": ["backup", "provider", "backup"] },
                             { "prefix": "2", "trunk": [] }, { "prefix": "3", "trunk": ["provider", 7] },
                             { "prefix": "4", "trunk": "spare" } ] }
})");
  ASSERT_FALSE(bad.ok());
  const auto& unknown = error_at(bad, "routing.outbound[0].trunk[1]");
  EXPECT_NE(unknown.message.find("unknown trunk 'spare'"), std::string::npos) << unknown.message;
  EXPECT_EQ(unknown.line, 6);
  EXPECT_NE(error_at(bad, "routing.outbound[1].trunk[2]").message.find("trunk 'backup' is already in this list"),
            std::string::npos);
  EXPECT_NE(error_at(bad, "routing.outbound[2].trunk").message.find("at least one trunk"), std::string::npos);
  EXPECT_NE(error_at(bad, "routing.outbound[3].trunk[1]").message.find("expected a string"), std::string::npos);
  EXPECT_NE(error_at(bad, "routing.outbound[4].trunk").message.find("unknown trunk 'spare'"), std::string::npos);
  EXPECT_EQ(bad.errors.size(), 5u);
}

TEST(ConfigLoader, ShippedExampleDocumentsTheNewKeys) {
  auto full = load_config_file(std::string(B2BUA_SOURCE_DIR) + "/etc/example-full.jsonc");
  ASSERT_TRUE(full.ok()) << (full.errors.empty() ? "" : full.errors[0].to_string("example-full.jsonc"));
  const Extension& ten = full.config->extensions.at(0);
  EXPECT_EQ(ten.forward.busy, "11");
  EXPECT_EQ(ten.forward.no_answer_after, 20);
  EXPECT_FALSE(ten.dnd);
  EXPECT_TRUE(ten.call_waiting);
  EXPECT_EQ(full.config->trunks.at(0).forward_caller_id, Trunk::ForwardCallerId::trunk);
  EXPECT_EQ(full.config->routing.block.answer, 603);
  EXPECT_EQ(full.config->routing.inbound.at(0).block, BlockList{});
}

TEST(ConfigLoader, KeepaliveAutoAndStunServer) {
  auto ok = load(R"({
  "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"] },
  "wan": { "address": "203.0.113.2", "stun": "stun.example.net" },
  "trunks": [ { "name": "p", "registrar": "sip:sip.example.net", "username": "u", "password": "x",
                "keepalive": {"interval": "auto"} },
              { "name": "q", "registrar": "sip:sip.example.net", "username": "v", "password": "x",
                "keepalive": {"method": "options", "interval": 25} } ]
})");
  ASSERT_TRUE(ok.ok()) << (ok.errors.empty() ? "" : ok.errors[0].message);
  ASSERT_TRUE(ok.config->wan.stun);
  EXPECT_EQ(ok.config->wan.stun->str(), "stun.example.net:3478");
  EXPECT_TRUE(ok.config->trunks.at(0).keepalive.automatic);
  EXPECT_EQ(ok.config->trunks.at(0).keepalive.interval, 20) << "the default stays the fallback";
  EXPECT_FALSE(ok.config->trunks.at(1).keepalive.automatic);
  EXPECT_EQ(ok.config->trunks.at(1).keepalive.interval, 25);

  auto r = load(R"({
  "lan": { "listen": ["udp:192.168.1.1:5060"], "networks": ["192.168.1.0/24"] },
  "wan": { "address": "203.0.113.2", "stun": "stun.example.net:99999" },
  "trunks": [ { "name": "a", "registrar": "sip:s.example.net", "username": "u", "password": "x",
                "keepalive": {"interval": "fast"} },
              { "name": "b", "registrar": "sip:s.example.net", "username": "v", "password": "x",
                "transport": "tcp", "keepalive": {"interval": "auto"} },
              { "name": "c", "registrar": "sip:s.example.net", "username": "w", "password": "x",
                "keepalive": {"method": "off", "interval": "auto"} },
              { "name": "d", "registrar": "sip:s.example.net", "username": "y", "password": "x",
                "keepalive": {"interval": 2} } ]
})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(error_at(r, "wan.stun").message.find("host:port"), std::string::npos);
  EXPECT_NE(error_at(r, "trunks[0].keepalive.interval").message.find("or \"auto\""), std::string::npos);
  EXPECT_NE(error_at(r, "trunks[1].keepalive.interval").message.find("uses tcp"), std::string::npos);
  EXPECT_NE(error_at(r, "trunks[2].keepalive.interval").message.find("\"off\""), std::string::npos);
  EXPECT_NE(error_at(r, "trunks[3].keepalive.interval").message.find("out of range"), std::string::npos);
  EXPECT_EQ(error_at(r, "wan.stun").line, 3);
  EXPECT_EQ(error_at(r, "trunks[1].keepalive.interval").line, 7);
}

}  // namespace
}  // namespace b2bua::config
