// The registrar as other features see it: what it restores at start, which bindings a call
// rings, and what it adds to the status snapshot.
#include "b2bua/registrar/registrar.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <nlohmann/json.hpp>

#include "b2bua/sip/sip_agent.h"
#include "sip_fixture.h"

namespace b2bua::registrar {
namespace {

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Binding row(const std::string& aor, const std::string& contact, double q, bool answering_options, int64_t expires_at) {
  Binding b;
  b.aor = aor;
  b.contact = contact;
  b.call_id = "c-" + contact;
  b.cseq = 1;
  b.expires_at = expires_at;
  b.q = q;
  b.transport = "udp";
  b.source = "192.0.2.7:40000";
  b.user_agent = "phone";
  b.answering_options = answering_options;
  b.updated_at = expires_at - 600;
  return b;
}

class RegistrarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    su_init();
    root_ = su_root_create(nullptr);
    const std::string url = "sip:127.0.0.1:" + std::to_string(b2bua::testing::free_port()) + ";transport=udp";
    agent_ = std::make_unique<sip::SipAgent>(root_, sip::AgentOptions{"lan", url, "test", "REGISTER", "", -1, "", ""});
    config_.lan.realm = "home.arpa";
    config_.registrar.qualify_interval = 0;
    for (const char* n : {"10", "11"}) {
      config::Extension e;
      e.number = n;
      e.password = "pw";
      config_.extensions.push_back(e);
    }
    context_.root = root_;
    context_.lan = agent_.get();
    context_.store = store_.get();
  }
  void TearDown() override {
    registrar_.reset();
    bool done = false;
    agent_->shutdown([&] { done = true; });
    for (int i = 0; i < 200 && !done; ++i) su_root_step(root_, 10);
    ASSERT_TRUE(done);
    agent_.reset();
    su_root_destroy(root_);
    su_deinit();
  }

  su_root_t* root_ = nullptr;
  std::unique_ptr<storage::Store> store_ = storage::open_memory_store();
  std::unique_ptr<sip::SipAgent> agent_;
  config::Config config_;
  plane::PlaneContext context_;
  std::unique_ptr<Registrar> registrar_;
};

TEST_F(RegistrarTest, RingsEveryUnexpiredBindingHighestQFirst) {
  const int64_t later = now_s() + 600;
  store_->bindings().save(row("10", "sip:10@10.0.0.5", 0.5, true, later));
  store_->bindings().save(row("10", "sip:10@10.0.0.6", 1.0, true, later));
  store_->bindings().save(row("10", "sip:10@10.0.0.7", 0.8, false, later));  // did not answer qualify
  store_->bindings().save(row("99", "sip:99@10.0.0.9", 1.0, true, later));   // extension since removed
  registrar_ = std::make_unique<Registrar>(context_, std::make_shared<const config::Config>(config_));

  auto targets = registrar_->ring_targets("10");
  ASSERT_EQ(targets.ring.size(), 3u);
  EXPECT_TRUE(targets.skipped.empty());
  EXPECT_EQ(targets.ring[0].contact, "sip:10@10.0.0.6");
  EXPECT_EQ(targets.ring[1].contact, "sip:10@10.0.0.7") << "a binding silent to qualify is rung all the same";
  EXPECT_FALSE(targets.ring[1].answering_options);
  EXPECT_EQ(targets.ring[2].contact, "sip:10@10.0.0.5");
  EXPECT_TRUE(targets.ring[2].answering_options);
  EXPECT_EQ(targets.ring[0].flow_uri, "sip:192.0.2.7:40000;transport=udp");
  EXPECT_EQ(targets.ring[0].extension, "10");
  EXPECT_TRUE(registrar_->ring_targets("11").ring.empty());
  EXPECT_TRUE(registrar_->ring_targets("11").skipped.empty());
  EXPECT_EQ(registrar_->snapshot().size(), 3u);
  store_->flush();
  EXPECT_EQ(store_->bindings().load_unexpired(now_s()).size(), 3u) << "the removed extension's binding is deleted";
}

TEST_F(RegistrarTest, AnExpiredBindingIsSkippedWithItsReason) {
  // Restored before its last second ran out; the tick that removes it has not come yet.
  store_->bindings().save(row("10", "sip:10@10.0.0.5", 1.0, true, now_s() + 1));
  registrar_ = std::make_unique<Registrar>(context_, std::make_shared<const config::Config>(config_));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto targets = registrar_->ring_targets("10");
  EXPECT_TRUE(targets.ring.empty());
  ASSERT_EQ(targets.skipped.size(), 1u);
  EXPECT_EQ(targets.skipped[0].contact, "sip:10@10.0.0.5");
  EXPECT_STREQ(targets.skipped[0].reason, "expired");
}

TEST_F(RegistrarTest, DescribeAddsBindingsAndCounters) {
  store_->bindings().save(row("10", "sip:10@10.0.0.5", 1.0, true, now_s() + 600));
  registrar_ = std::make_unique<Registrar>(context_, std::make_shared<const config::Config>(config_));
  nlohmann::json status;
  status["extensions"] = nlohmann::json::array({{{"number", "10"}, {"name", "Kitchen"}}});
  registrar_->describe(status);
  ASSERT_EQ(status["extensions"].size(), 2u);
  const auto& ten = status["extensions"][0];
  EXPECT_EQ(ten["name"], "Kitchen");
  ASSERT_EQ(ten["bindings"].size(), 1u);
  EXPECT_EQ(ten["bindings"][0]["contact"], "sip:10@10.0.0.5");
  EXPECT_EQ(ten["bindings"][0]["source"], "192.0.2.7:40000");
  EXPECT_EQ(ten["bindings"][0]["answering_options"], true);
  EXPECT_EQ(status["extensions"][1]["number"], "11");
  EXPECT_TRUE(status["extensions"][1]["bindings"].empty());
  EXPECT_EQ(status["registrar"]["auth_failures_total"], 0);
  EXPECT_EQ(status["registrar"]["blocked_now"], 0);
  EXPECT_EQ(status.dump().find("pw"), std::string::npos) << "no secret in the snapshot";
}

// The lock as REGISTER and INVITE both meet it (Phones): a phone registered from an address
// goes on authenticating from there; any other address, right password or not, is refused. The
// admin sees the lock in the snapshot.
TEST_F(RegistrarTest, LockedExtensionKeepsItsRegisteredPhoneAndRefusesNewOnes) {
  config_.registrar.lock_after_failures = 4;
  config_.registrar.lock_min_sources = 2;
  store_->bindings().save(row("10", "sip:10@10.0.0.5", 1.0, true, now_s() + 600));  // source 192.0.2.7
  registrar_ = std::make_unique<Registrar>(context_, std::make_shared<const config::Config>(config_));
  for (const char* ip : {"198.51.100.1", "198.51.100.2", "198.51.100.1", "198.51.100.2"}) {
    registrar_->auth_failed(ip, "10", "REGISTER");
  }
  EXPECT_TRUE(registrar_->auth_succeeded("192.0.2.7", "10")) << "the registered phone refreshes and calls";
  EXPECT_FALSE(registrar_->auth_succeeded("198.51.100.9", "10")) << "a new phone of 10 waits for the lock to end";
  EXPECT_FALSE(registrar_->auth_succeeded("198.51.100.1", "10"));
  EXPECT_TRUE(registrar_->auth_succeeded("198.51.100.9", "11")) << "other extensions are not affected";
  EXPECT_FALSE(registrar_->source_blocked("198.51.100.1")) << "two failures each: under the per-address limit";

  nlohmann::json status;
  registrar_->describe(status);
  const auto& r = status["registrar"];
  EXPECT_EQ(r["locked_now"], 1);
  EXPECT_EQ(r["locks_total"], 1);
  ASSERT_EQ(r["locked_extensions"].size(), 1u);
  EXPECT_EQ(r["locked_extensions"][0]["ext"], "10");
  EXPECT_EQ(r["locked_extensions"][0]["sources"], 2);
  EXPECT_EQ(r["locked_extensions"][0]["failures"], 4);
  EXPECT_EQ(r["locked_extensions"][0]["until"].get<int64_t>() - r["locked_extensions"][0]["since"].get<int64_t>(),
            config_.registrar.lock_duration);
}

// Guesses for a name that is no extension count against the address, never as a lock.
TEST_F(RegistrarTest, UnknownNamesBlockTheAddressButLockNothing) {
  config_.registrar.block_after_failures = 3;
  config_.registrar.lock_after_failures = 3;
  config_.registrar.lock_min_sources = 1;
  registrar_ = std::make_unique<Registrar>(context_, std::make_shared<const config::Config>(config_));
  for (int i = 0; i < 3; ++i) registrar_->auth_failed("198.51.100.1", "99", "INVITE");
  EXPECT_TRUE(registrar_->source_blocked("198.51.100.1"));
  nlohmann::json status;
  registrar_->describe(status);
  EXPECT_EQ(status["registrar"]["locked_now"], 0);
  EXPECT_EQ(status["registrar"]["blocked_now"], 1);
}

TEST_F(RegistrarTest, ReloadRemovesBindingsOfRemovedExtensions) {
  const int64_t later = now_s() + 600;
  store_->bindings().save(row("11", "sip:11@10.0.0.5", 1.0, true, later));
  registrar_ = std::make_unique<Registrar>(context_, std::make_shared<const config::Config>(config_));
  config::Config next = config_;
  next.extensions.pop_back();
  registrar_->apply_config(config_, std::make_shared<const config::Config>(next));
  EXPECT_TRUE(registrar_->snapshot().empty());
  store_->flush();
  EXPECT_TRUE(store_->bindings().load_unexpired(now_s()).empty());
}

}  // namespace
}  // namespace b2bua::registrar
