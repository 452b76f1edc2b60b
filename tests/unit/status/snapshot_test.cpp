#include "b2bua/status/snapshot.h"

#include <gtest/gtest.h>

#include "b2bua/config/config_loader.h"
#include "media/media_plane.h"
#include "secret_config.h"
#include "storage/store.h"

namespace b2bua::status {
namespace {

std::shared_ptr<const config::Config> secret_config() {
  auto loaded = config::load_config_text(test::kSecretConfig, "/tmp/status-test.jsonc");
  EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors.front().to_string("config"));
  return loaded.config;
}

TEST(Snapshot, ConfiguredViewListsTrunksAndExtensionsInConfigOrder) {
  nlohmann::json s = nlohmann::json::object();
  add_configured_view(s, *secret_config());
  ASSERT_EQ(s["trunks"].size(), 2u);
  EXPECT_EQ(s["trunks"][0]["name"], "provider");
  EXPECT_EQ(s["trunks"][0]["enabled"], true);
  EXPECT_EQ(s["trunks"][0]["registrar"], "sip:127.0.0.1:18083");
  EXPECT_EQ(s["trunks"][0]["numbers"][0], "+4930123456");
  EXPECT_EQ(s["trunks"][1]["enabled"], false);
  ASSERT_EQ(s["extensions"].size(), 2u);
  EXPECT_EQ(s["extensions"][1]["number"], "11");
  EXPECT_EQ(s["extensions"][1]["name"], "Office");
}

TEST(Snapshot, ConfiguredViewFillsInWithoutOverwritingWhatFeaturesReported) {
  // A feature that writes its whole list, as the trunk feature does.
  nlohmann::json s = {{"trunks", {{{"name", "provider"}, {"state", "registered"}, {"enabled", "live value"}}}},
                      {"extensions", {{{"number", "11"}, {"bindings", nlohmann::json::array()}}}}};
  add_configured_view(s, *secret_config());
  ASSERT_EQ(s["trunks"].size(), 2u);
  EXPECT_EQ(s["trunks"][0]["state"], "registered");
  EXPECT_EQ(s["trunks"][0]["enabled"], "live value");
  EXPECT_EQ(s["trunks"][0]["registrar"], "sip:127.0.0.1:18083");
  EXPECT_EQ(s["trunks"][1]["name"], "backup");  // configured, not reported: still listed
  ASSERT_EQ(s["extensions"].size(), 2u);
  EXPECT_EQ(s["extensions"][0]["number"], "11");
  EXPECT_EQ(s["extensions"][0]["name"], "Office");
  EXPECT_TRUE(s["extensions"][0]["bindings"].is_array());
  EXPECT_EQ(s["extensions"][1]["number"], "10");
}

TEST(Snapshot, EntryFindsTheConfiguredObjectOrAppendsOne) {
  nlohmann::json s = nlohmann::json::object();
  add_configured_view(s, *secret_config());
  entry(s, "trunks", "provider")["state"] = "registered";
  EXPECT_EQ(s["trunks"][0]["state"], "registered");
  entry(s, "extensions", "10")["bindings"] = nlohmann::json::array({{{"contact", "sip:10@x"}}});
  EXPECT_EQ(s["extensions"][0]["bindings"][0]["contact"], "sip:10@x");
  entry(s, "trunks", "learned")["state"] = "registering";
  ASSERT_EQ(s["trunks"].size(), 3u);
  EXPECT_EQ(s["trunks"][2]["name"], "learned");

  nlohmann::json empty = nlohmann::json::object();
  entry(empty, "extensions", "12")["bindings"] = nlohmann::json::array();
  EXPECT_EQ(empty["extensions"][0]["number"], "12");
}

TEST(Snapshot, ProcessFactsGiveUptime) {
  nlohmann::json s = nlohmann::json::object();
  add_process_facts(s, {77, 1000, 1'065'500});
  EXPECT_EQ(s["pid"], 77);
  EXPECT_EQ(s["uptime_s"], 65);
  EXPECT_EQ(s["generated_at"], 1'065'500);
  EXPECT_FALSE(s["version"].get<std::string>().empty());
}

TEST(Snapshot, RelayTotalsByDirectionAndReasonWithEveryKeyPresent) {
  media::RelayTotals t;
  t.flow(media::Side::lan, media::Side::wan) = {10, 1720};
  t.flow(media::Side::wan, media::Side::lan) = {8, 556};
  t.drops(media::DropReason::wrong_source) = 4;
  t.drops(media::DropReason::send_failed) = 5;
  t.sessions = 3;
  t.pool.capacity = 500;
  t.pool.in_use = 3;
  t.pool.allocation_failures = 1;
  t.pool.last_failure = "port pool exhausted";
  t.pool.last_failure_at = 1'700'000'000;
  t.pool.probed = 16;
  t.pool.busy = {20010};
  nlohmann::json s = {{"relay", {{"stale", 1}}}};
  add_relay_totals(s, t);
  const nlohmann::json expected = nlohmann::json::parse(R"({
    "sessions": 3,
    "packets": {"lan_to_wan": 10, "wan_to_lan": 8, "lan_to_lan": 0, "wan_to_wan": 0},
    "bytes": {"lan_to_wan": 1720, "wan_to_lan": 556, "lan_to_lan": 0, "wan_to_wan": 0},
    "dropped": {"wrong_source": 4, "malformed": 0, "no_destination": 0, "send_failed": 5},
    "pool": {"capacity": 500, "in_use": 3, "allocation_failures": 1, "taken_elsewhere": 0,
             "last_failure": "port pool exhausted", "last_failure_at": 1700000000, "probed": 16, "busy": [20010]}})");
  EXPECT_EQ(s["relay"], expected) << s["relay"].dump();
}

TEST(Snapshot, RecentCallsNewestFirstWithMediaParsed) {
  auto store = storage::open_memory_store();
  for (int i = 1; i <= 60; ++i) {
    storage::CallRecordRow r;
    r.call_id = "call-" + std::to_string(i);
    r.direction = "outbound";
    r.extension = "10";
    r.start_ms = 1000 * i;
    r.final_code = i % 2 ? 200 : 486;
    r.media_stats_json = i == 60 ? R"({"legs":[{"packets":10}]})" : "not json";
    store->call_records().insert(r);
  }
  store->flush();
  nlohmann::json s = nlohmann::json::object();
  add_recent_calls(s, store->call_records());
  ASSERT_EQ(s["recent_calls"].size(), kRecentCalls);
  EXPECT_EQ(s["recent_calls"][0]["call_id"], "call-60");
  EXPECT_EQ(s["recent_calls"][0]["media"]["legs"][0]["packets"], 10);
  EXPECT_TRUE(s["recent_calls"][1]["media"].is_object());
  EXPECT_FALSE(s.contains("recent_calls_error"));
}

TEST(Snapshot, InvalidUtf8IsReplacedNotThrown) {
  nlohmann::json s = {{"user_agent", std::string("phone\xff\xfe")}};
  std::string text;
  EXPECT_NO_THROW(text = to_json_text(s));
  EXPECT_NE(text.find("phone"), std::string::npos);
}

}  // namespace
}  // namespace b2bua::status
