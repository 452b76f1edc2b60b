// Nothing in status output ever shows a password, HA1, digest or the status token: a config
// full of secrets goes through the same path the daemon uses, and every endpoint is searched.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "b2bua/config/config_loader.h"
#include "b2bua/status/http_get.h"
#include "b2bua/status/metrics.h"
#include "b2bua/status/snapshot.h"
#include "b2bua/status/status_command.h"
#include "b2bua/status/status_server.h"
#include "secret_config.h"

namespace b2bua::status {
namespace {

void expect_no_secret(const std::string& where, const std::string& text) {
  ASSERT_FALSE(text.empty()) << where;
  for (const auto& secret : test::kSecrets) {
    EXPECT_EQ(text.find(secret), std::string::npos) << where << " shows secret " << secret << ":\n" << text;
  }
}

TEST(NoSecrets, NotInStatusMetricsPageOrTable) {
  auto loaded = config::load_config_text(test::kSecretConfig, "/tmp/status-secrets.jsonc");
  ASSERT_TRUE(loaded.ok()) << loaded.errors.front().to_string("config");
  auto config = loaded.config;
  ASSERT_TRUE(config->status.token);

  StatusSettings settings;
  settings.listen = config->status.listen;
  settings.token = config->status.token;
  StatusSources sources;
  sources.post_to_sip = [](std::function<void()> fn) { fn(); };
  sources.describe = [config](nlohmann::json& s) { add_configured_view(s, *config); };
  StatusServer server(settings, sources);

  auto status = http_get("127.0.0.1", 18085, "/status", config->status.token);
  ASSERT_EQ(status.code, 200) << status.error;
  // The data is there, only the secrets are not.
  auto j = nlohmann::json::parse(status.body);
  EXPECT_EQ(j["trunks"][0]["username"], "4930123456");
  EXPECT_EQ(j["extensions"][0]["name"], "Kitchen");
  expect_no_secret("/status", status.body);

  auto metrics = http_get("127.0.0.1", 18085, "/metrics", config->status.token);
  ASSERT_EQ(metrics.code, 200);
  expect_no_secret("/metrics", metrics.body);

  auto page = http_get("127.0.0.1", 18085, "/", std::nullopt);
  ASSERT_EQ(page.code, 200);
  expect_no_secret("/", page.body);

  auto unauthorized = http_get("127.0.0.1", 18085, "/status", std::nullopt);
  EXPECT_EQ(unauthorized.code, 401);
  expect_no_secret("401 body", unauthorized.body);

  expect_no_secret("b2bua status table", render_status_text(j, 0));
}

}  // namespace
}  // namespace b2bua::status
