// The keep-alive rule (keepalive_finding.h) on trunk entries as TrunkManager::describe writes them.
#include "b2bua/status/keepalive_finding.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace b2bua::status {
namespace {

using nlohmann::json;

TEST(KeepaliveFinding, AnIntervalBelowTheMeasuredLifetimeSaysNothing) {
  json t = {{"name", "sipgate"}, {"keepalive_interval_s", 11u}, {"nat_lifetime_state", "measured"},
            {"nat_lifetime_s", 14u}};
  EXPECT_FALSE(keepalive_vs_lifetime(t));
  EXPECT_FALSE(keepalive_vs_lifetime(json{{"name", "fixed"}, {"keepalive_interval_s", 20u}}))
      << "a fixed interval without a measurement: nothing known to compare";
  EXPECT_FALSE(keepalive_vs_lifetime(json{{"name", "m"}, {"keepalive_interval_s", 20u}, {"nat_lifetime_state", "measuring"}}));
}

TEST(KeepaliveFinding, AnIntervalAtOrAboveTheLifetimeIsAProblem) {
  json t = {{"name", "sipgate"}, {"keepalive_interval_s", 20u}, {"nat_lifetime_state", "measured"},
            {"nat_lifetime_s", 14u}};
  auto f = keepalive_vs_lifetime(t);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->id, "trunk.sipgate.keepalive");
  EXPECT_EQ(f->verdict, Verdict::problem);
  EXPECT_NE(f->evidence.find("every 20 s, measured mapping lifetime 14 s"), std::string::npos);
  EXPECT_NE(f->action.find("below 14 s"), std::string::npos);
}

TEST(KeepaliveFinding, NoMeasurementPossibleIsAWarningWithTheReason) {
  json t = {{"name", "p"}, {"keepalive_interval_s", 20u}, {"nat_lifetime_state", "unavailable"},
            {"nat_lifetime_s", nullptr}, {"nat_lifetime_reason", "no STUN server configured (wan.stun)"}};
  auto f = keepalive_vs_lifetime(t);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->verdict, Verdict::warning);
  EXPECT_NE(f->evidence.find("no STUN server configured (wan.stun); keep-alive every 20 s"), std::string::npos);
  EXPECT_NE(f->action.find("wan.stun"), std::string::npos);
}

}  // namespace
}  // namespace b2bua::status
