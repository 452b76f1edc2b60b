// The flood guard's decisions (the filter it asks for), driven by hand; the daemon on the wire
// is in tests/integration/security/test_flood_guard.py.
#include "b2bua/sip/flood_guard.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "b2bua/common/clock.h"

namespace b2bua::sip {
namespace {

class FloodGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    su_init();
    root_ = su_root_create(nullptr);
    FloodGuard::Hooks hooks;
    hooks.apply = [this](const SourceRules& r) { rules_ = r; ++applied_; };
    hooks.known = [] { return std::vector<std::string>{"192.168.1.20"}; };
    hooks.dropped = [this] { return dropped_; };
    guard_ = std::make_unique<FloodGuard>(root_, "lan", FloodLimits{5, 20}, std::move(hooks));
  }
  void TearDown() override {
    guard_.reset();
    su_root_destroy(root_);
    su_deinit();
  }
  std::vector<std::string> denied() const {
    std::vector<std::string> out;
    for (const auto& n : rules_.deny) out.push_back(n.text);
    return out;
  }

  su_root_t* root_ = nullptr;
  std::unique_ptr<FloodGuard> guard_;
  SourceRules rules_;
  int applied_ = 0;
  uint64_t dropped_ = 0;
};

TEST_F(FloodGuardTest, ASourceOverItsLimitIsDroppedForAMinute) {
  guard_->set_limits(FloodLimits{5, 0});  // this test is about one source only
  for (int i = 0; i < 5; ++i) guard_->on_request("192.168.1.50");
  EXPECT_EQ(applied_, 0) << "at the limit, not over it";
  guard_->on_request("192.168.1.50");
  EXPECT_EQ(denied(), std::vector<std::string>{"192.168.1.50"});
  EXPECT_FALSE(rules_.allow_only);
  for (int i = 0; i < 50; ++i) guard_->on_request("192.168.1.50");
  EXPECT_EQ(applied_, 1) << "blocked once, not per request";
  EXPECT_EQ(guard_->counts().sources_blocked_now, 1u);
  int64_t now = clock::unix_s();
  guard_->tick(now + 30);
  EXPECT_EQ(denied().size(), 1u);
  guard_->tick(now + FloodGuard::kSourceBlockSeconds + 1);
  EXPECT_TRUE(denied().empty());
  EXPECT_EQ(guard_->counts().sources_blocked_total, 1u);
}

TEST_F(FloodGuardTest, ManySourcesTurnTheShieldOnUntilTheFloodStops) {
  for (int i = 0; i < 21; ++i) guard_->on_request("10.0.0." + std::to_string(i));
  ASSERT_TRUE(rules_.allow_only);
  ASSERT_EQ(rules_.allow_only->size(), 1u);
  EXPECT_EQ((*rules_.allow_only)[0].text, "192.168.1.20") << "only where our phones registered from";
  int64_t now = clock::unix_s();
  // The kernel keeps dropping a flood's worth each second: the shield stays.
  for (int s = 1; s <= 10; ++s) {
    dropped_ += 1000;
    guard_->tick(now + s);
    EXPECT_TRUE(guard_->counts().shield_on) << "second " << s;
  }
  // Quiet for kQuietSeconds: the shield goes.
  for (int s = 11; s < 11 + FloodGuard::kQuietSeconds; ++s) guard_->tick(now + s);
  EXPECT_FALSE(guard_->counts().shield_on);
  EXPECT_FALSE(rules_.allow_only);
  EXPECT_EQ(guard_->counts().shields_total, 1u);
}

TEST_F(FloodGuardTest, NoLimitsNoFilter) {
  guard_->set_limits(FloodLimits{0, 0});
  for (int i = 0; i < 1000; ++i) guard_->on_request("10.0.0." + std::to_string(i % 250));
  EXPECT_EQ(applied_, 0);
}

}  // namespace
}  // namespace b2bua::sip
