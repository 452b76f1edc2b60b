#include "b2bua/status/status_server.h"

#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "b2bua/status/http_get.h"
#include "status_test_support.h"
#include "storage/store.h"

namespace b2bua::status {
namespace {

constexpr uint16_t kPort = 18086;

// Runs the SIP-side closure at once, on the HTTP thread: enough to test the HTTP side.
StatusSources inline_sources(nlohmann::json live) {
  StatusSources s;
  s.post_to_sip = [](std::function<void()> fn) { fn(); };
  s.describe = [live](nlohmann::json& status) { status.update(live); };
  s.started_at = 1'700'000'000;
  return s;
}

StatusSettings settings(std::optional<std::string> token = std::nullopt) {
  StatusSettings s;
  s.listen = "127.0.0.1:" + std::to_string(kPort);
  s.token = std::move(token);
  s.snapshot_bound = std::chrono::milliseconds(300);
  return s;
}

HttpResponse get(const std::string& path, const std::optional<std::string>& token = std::nullopt) {
  return http_get("127.0.0.1", kPort, path, token, std::chrono::milliseconds(3000));
}

TEST(StatusServer, ServesStatusMetricsAndPage) {
  auto store = storage::open_memory_store();
  storage::CallRecordRow r;
  r.call_id = "c-1";
  r.final_code = 486;
  store->call_records().insert(r);
  store->flush();
  auto sources = inline_sources(test::full_snapshot());
  sources.records = &store->call_records();
  StatusServer server(settings(), sources);
  EXPECT_EQ(server.port(), kPort);

  auto status = get("/status");
  ASSERT_EQ(status.code, 200) << status.error;
  auto j = nlohmann::json::parse(status.body);
  EXPECT_EQ(j["trunks"][0]["state"], "registered");
  EXPECT_EQ(j["started_at"], 1'700'000'000);
  EXPECT_EQ(j["pid"], static_cast<int64_t>(getpid()));
  ASSERT_EQ(j["recent_calls"].size(), 1u);  // storage replaces what the SIP side had
  EXPECT_EQ(j["recent_calls"][0]["call_id"], "c-1");

  auto metrics = get("/metrics");
  ASSERT_EQ(metrics.code, 200);
  EXPECT_NE(metrics.body.find("b2bua_trunk_registered{trunk=\"provider\"} 1"), std::string::npos);
  EXPECT_NE(metrics.body.find("b2bua_recent_call_records{code=\"486\"} 1"), std::string::npos);

  auto page = get("/");
  ASSERT_EQ(page.code, 200);
  EXPECT_EQ(page.body.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.body.find("fetch(\"/status\""), std::string::npos);
  // Self-contained: nothing loaded from elsewhere.
  EXPECT_EQ(page.body.find("src=\"http"), std::string::npos);
  EXPECT_EQ(page.body.find("href=\"http"), std::string::npos);

  EXPECT_EQ(get("/nope").code, 404);
}

TEST(StatusServer, TokenGuardsDataButNotThePageShell) {
  const std::string token = "a-long-status-token-123";
  StatusServer server(settings(token), inline_sources(test::full_snapshot()));
  EXPECT_EQ(get("/status").code, 401);
  EXPECT_EQ(get("/metrics").code, 401);
  EXPECT_EQ(get("/status", std::string("wrong-token-wrong-tok")).code, 401);
  EXPECT_EQ(get("/status", token).code, 200);
  EXPECT_EQ(get("/metrics", token).code, 200);
  auto page = get("/");
  EXPECT_EQ(page.code, 200);
  EXPECT_EQ(page.body.find(token), std::string::npos);

  server.set_token(std::string("the-next-token-456789"));  // SIGHUP
  EXPECT_EQ(get("/status", token).code, 401);
  EXPECT_EQ(get("/status", std::string("the-next-token-456789")).code, 200);
  server.set_token(std::nullopt);
  EXPECT_EQ(get("/status").code, 200);
}

TEST(StatusServer, SipThreadThatDoesNotAnswerGives503WithinTheBound) {
  std::mutex m;
  std::vector<std::function<void()>> parked;  // never run while the request waits
  StatusSources sources = inline_sources(nlohmann::json::object());
  sources.post_to_sip = [&](std::function<void()> fn) {
    std::lock_guard lock(m);
    parked.push_back(std::move(fn));
  };
  StatusServer server(settings(), sources);
  auto start = std::chrono::steady_clock::now();
  auto r = get("/status");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.code, 503);
  EXPECT_LT(took, std::chrono::milliseconds(2000));
  std::lock_guard lock(m);
  ASSERT_EQ(parked.size(), 1u);
  parked.front()();  // a late answer lands harmlessly
}

TEST(StatusServer, DroppedClosureGives503) {
  StatusSources sources = inline_sources(nlohmann::json::object());
  sources.post_to_sip = [](std::function<void()>) {};  // the SIP loop has ended
  StatusServer server(settings(), sources);
  auto start = std::chrono::steady_clock::now();
  auto r = get("/status");
  EXPECT_EQ(r.code, 503);
  EXPECT_NE(r.body.find("stopped"), std::string::npos) << r.body;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));  // no wait for the bound
}

TEST(StatusServer, FailingDescribeGives503AndKeepsServing) {
  bool fail = true;
  StatusSources sources = inline_sources(nlohmann::json::object());
  sources.describe = [&fail](nlohmann::json& s) {
    if (fail) throw std::runtime_error("feature broke");
    s["trunks"] = nlohmann::json::array();
  };
  StatusServer server(settings(), sources);
  auto r = get("/status");
  EXPECT_EQ(r.code, 503);
  EXPECT_NE(r.body.find("feature broke"), std::string::npos) << r.body;
  fail = false;
  EXPECT_EQ(get("/status").code, 200);
}

TEST(StatusServer, BindFailureNamesTheAddress) {
  StatusServer first(settings(), inline_sources(nlohmann::json::object()));
  try {
    StatusServer second(settings(), inline_sources(nlohmann::json::object()));
    FAIL() << "second bind succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:18086"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
  }
}

TEST(StatusServer, StopIsIdempotentAndRefusesAfterwards) {
  StatusServer server(settings(), inline_sources(nlohmann::json::object()));
  server.stop();
  server.stop();
  auto r = get("/status");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.error.find("cannot connect"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace b2bua::status
