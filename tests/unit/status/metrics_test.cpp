#include "b2bua/status/metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "b2bua/status/snapshot.h"
#include "media/media_plane.h"
#include "status_test_support.h"

namespace b2bua::status {
namespace {

// Every "# TYPE name kind" line, and how often each family's header appears.
std::map<std::string, std::string> types(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    std::istringstream l(line.substr(7));
    std::string name, kind;
    l >> name >> kind;
    EXPECT_EQ(out.count(name), 0u) << "family emitted twice: " << name;
    out[name] = kind;
  }
  return out;
}

TEST(Metrics, RendersEveryFamilyOfAFullSnapshot) {
  std::string m = render_metrics(test::full_snapshot());
  auto t = types(m);
  EXPECT_EQ(t["b2bua_info"], "gauge");
  EXPECT_EQ(t["b2bua_trunk_registered"], "gauge");
  EXPECT_EQ(t["b2bua_calls_total"], "counter");
  EXPECT_EQ(t["b2bua_relay_packets_total"], "counter");
  EXPECT_EQ(t["b2bua_relay_bytes_total"], "counter");
  EXPECT_EQ(t["b2bua_relay_dropped_total"], "counter");
  EXPECT_EQ(t["b2bua_relay_sessions"], "gauge");
  EXPECT_EQ(t["b2bua_auth_failures_total"], "counter");
  EXPECT_EQ(t["b2bua_trunk_keepalive_rtt_seconds"], "gauge");
  EXPECT_EQ(t["b2bua_trunk_keepalive_interval_seconds"], "gauge");
  EXPECT_EQ(t["b2bua_trunk_nat_lifetime_seconds"], "gauge");

  EXPECT_NE(m.find("b2bua_info{version=\"1.2.3\"} 1\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_uptime_seconds 3725\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_trunks_configured 3\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_trunk_registered{trunk=\"provider\"} 1\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_trunks_registered 1\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_trunk_enabled{trunk=\"off\"} 0\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_trunk_last_status{trunk=\"provider\"} 200\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_trunk_keepalive_rtt_seconds{trunk=\"provider\"} 0.0125\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_trunk_keepalive_interval_seconds{trunk=\"provider\"} 11\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_trunk_nat_lifetime_seconds{trunk=\"provider\"} 14\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_bindings{extension=\"10\"} 2\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_bindings{extension=\"11\"} 0\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_bindings_answering_options{extension=\"10\"} 1\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_active_calls 1\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_calls_total{code=\"200\"} 12\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_calls_total{code=\"486\"} 3\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_recent_call_records{code=\"487\"} 1\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_relay_sessions 1\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_relay_packets_total{direction=\"lan_to_wan\"} 50000\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_relay_packets_total{direction=\"wan_to_lan\"} 49999\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_relay_bytes_total{direction=\"wan_to_lan\"} 8599828\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_relay_dropped_total{reason=\"wrong_source\"} 4\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_relay_dropped_total{reason=\"send_failed\"} 0\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_auth_blocks_total 1\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_auth_blocked_sources 1\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_auth_locked_extensions 1\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_auth_extension_locks_total 1\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_wan_requests_rejected_total 17\n"), std::string::npos);
}

TEST(Metrics, EveryFamilyHasHelpBeforeTypeBeforeSamples) {
  std::istringstream in(render_metrics(test::full_snapshot()));
  std::string line, help_for, type_for;
  int samples = 0;
  while (std::getline(in, line)) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) {
      help_for = line.substr(7, line.find(' ', 7) - 7);
      type_for.clear();
    } else if (line.rfind("# TYPE ", 0) == 0) {
      type_for = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_EQ(type_for, help_for);
    } else {
      ++samples;
      EXPECT_EQ(line.rfind(type_for, 0), 0u) << line << " outside its family " << type_for;
      EXPECT_TRUE(line[type_for.size()] == ' ' || line[type_for.size()] == '{') << line;
    }
  }
  EXPECT_GT(samples, 20);
}

TEST(Metrics, EscapesLabelValues) {
  std::string m = render_metrics(test::full_snapshot());
  EXPECT_NE(m.find("b2bua_trunk_registered{trunk=\"backup \\\"2\\\"\"} 0\n"), std::string::npos) << m;
}

TEST(Metrics, LeavesOutWhatTheSnapshotDoesNotKnow) {
  // Today's daemon before the features report: configured view and process facts only.
  auto s = nlohmann::json::parse(R"({"version": "0.1.0", "uptime_s": 5, "started_at": 1,
    "trunks": [{"name": "p", "enabled": true}], "extensions": [{"number": "10"}], "recent_calls": []})");
  std::string m = render_metrics(s);
  EXPECT_NE(m.find("b2bua_trunks_configured 1\n"), std::string::npos);
  EXPECT_NE(m.find("b2bua_extensions_configured 1\n"), std::string::npos);
  for (const char* absent : {"b2bua_trunk_registered", "b2bua_trunks_registered", "b2bua_bindings", "b2bua_active_calls",
                             "b2bua_calls_total", "b2bua_relay_", "b2bua_auth_", "b2bua_recent_call_records{"}) {
    EXPECT_EQ(m.find(absent), std::string::npos) << absent << " rendered without data:\n" << m;
  }
}

// Every sample line of `family` in the text, in order.
std::vector<std::string> samples_of(const std::string& text, const std::string& family) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(family, 0) == 0 && (line[family.size()] == '{' || line[family.size()] == ' ')) out.push_back(line);
  }
  return out;
}

TEST(Metrics, RelayTotalsFromTheMediaPlaneByDirectionAndReason) {
  using media::DropReason;
  using media::Side;
  media::RelayTotals t;
  t.flow(Side::lan, Side::wan) = {120, 20640};
  t.flow(Side::wan, Side::lan) = {118, 20296};
  t.flow(Side::lan, Side::lan) = {7, 1204};
  t.drops(DropReason::wrong_source) = 3;
  t.drops(DropReason::malformed) = 2;
  t.drops(DropReason::no_destination) = 5;
  t.drops(DropReason::send_failed) = 1;
  t.sessions = 2;
  nlohmann::json status = nlohmann::json::object();
  add_relay_totals(status, t);
  const std::string m = render_metrics(status);

  EXPECT_EQ(samples_of(m, "b2bua_relay_sessions"), std::vector<std::string>{"b2bua_relay_sessions 2"});
  // Directions in the snapshot's key order (sorted); a direction no call took is a reported 0.
  EXPECT_EQ(samples_of(m, "b2bua_relay_packets_total"),
            (std::vector<std::string>{"b2bua_relay_packets_total{direction=\"lan_to_lan\"} 7",
                                      "b2bua_relay_packets_total{direction=\"lan_to_wan\"} 120",
                                      "b2bua_relay_packets_total{direction=\"wan_to_lan\"} 118",
                                      "b2bua_relay_packets_total{direction=\"wan_to_wan\"} 0"}));
  EXPECT_EQ(samples_of(m, "b2bua_relay_bytes_total"),
            (std::vector<std::string>{"b2bua_relay_bytes_total{direction=\"lan_to_lan\"} 1204",
                                      "b2bua_relay_bytes_total{direction=\"lan_to_wan\"} 20640",
                                      "b2bua_relay_bytes_total{direction=\"wan_to_lan\"} 20296",
                                      "b2bua_relay_bytes_total{direction=\"wan_to_wan\"} 0"}));
  EXPECT_EQ(samples_of(m, "b2bua_relay_dropped_total"),
            (std::vector<std::string>{"b2bua_relay_dropped_total{reason=\"malformed\"} 2",
                                      "b2bua_relay_dropped_total{reason=\"no_destination\"} 5",
                                      "b2bua_relay_dropped_total{reason=\"send_failed\"} 1",
                                      "b2bua_relay_dropped_total{reason=\"wrong_source\"} 3"}));
  auto t_types = types(m);
  EXPECT_EQ(t_types["b2bua_relay_dropped_total"], "counter");
}

TEST(Metrics, SurvivesMistypedParts) {
  auto s = nlohmann::json::parse(R"({"version": 3, "trunks": {"not": "a list"}, "extensions": [1, "x", null],
    "calls": "none", "relay": [], "registrar": {"auth_failures_total": "many"}})");
  std::string m = render_metrics(s);
  EXPECT_NE(m.find("b2bua_info{version=\"3\"} 1"), std::string::npos);
  EXPECT_EQ(m.find("b2bua_auth_failures_total"), std::string::npos);
}

}  // namespace
}  // namespace b2bua::status
