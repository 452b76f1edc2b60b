#include "b2bua/trunk/retry_policy.h"

#include <gtest/gtest.h>

namespace b2bua::trunk {
namespace {

RetryPolicy policy(double random = 0.5) { return RetryPolicy(300, 60, [random] { return random; }); }

TEST(RetryPolicy, ForbiddenAndNotFoundRetrySlowly) {
  auto p = policy();
  for (int status : {403, 404}) {
    auto d = p.on_failure(status, std::nullopt, false, true);
    EXPECT_EQ(d.state, TrunkState::auth_failed);
    EXPECT_EQ(d.delay_ms, 300000u);
    EXPECT_FALSE(d.next_server) << "another server has the same accounts";
  }
}

TEST(RetryPolicy, RepeatedChallengeIsAuthFailure) {
  auto p = policy();
  auto d = p.on_failure(401, std::nullopt, true, false);
  EXPECT_EQ(d.state, TrunkState::auth_failed);
  EXPECT_EQ(d.delay_ms, 300000u);
}

TEST(RetryPolicy, RetryAfterIsHonoured) {
  auto p = policy();
  auto d = p.on_failure(503, 42u, false, true);
  EXPECT_EQ(d.state, TrunkState::backoff);
  EXPECT_EQ(d.delay_ms, 42000u);
  EXPECT_FALSE(d.next_server);
}

TEST(RetryPolicy, TimeoutFailsOverFirstThenBacksOffExponentiallyCapped) {
  auto p = policy();
  auto first = p.on_failure(408, std::nullopt, false, true);
  EXPECT_TRUE(first.next_server);
  EXPECT_EQ(first.delay_ms, 0u);
  std::vector<unsigned> delays;
  for (int i = 0; i < 8; ++i) delays.push_back(p.on_failure(408, std::nullopt, false, false).delay_ms);
  EXPECT_EQ(delays[0], 2000u);
  EXPECT_EQ(delays[1], 4000u);
  EXPECT_EQ(delays[2], 8000u);
  EXPECT_EQ(delays[4], 32000u);
  EXPECT_EQ(delays[5], 60000u) << "capped at max_backoff";
  EXPECT_EQ(delays[7], 60000u);
  p.on_success();
  EXPECT_EQ(p.on_failure(500, std::nullopt, false, false).delay_ms, 2000u) << "success resets the exponent";
}

TEST(RetryPolicy, JitterSpreadsWithinTwentyPercent) {
  auto low = policy(0.0).on_failure(408, std::nullopt, false, false).delay_ms;
  auto high = policy(0.999).on_failure(408, std::nullopt, false, false).delay_ms;
  EXPECT_EQ(low, 1600u);
  EXPECT_GE(high, 2390u);
  EXPECT_LE(high, 2400u);
}

}  // namespace
}  // namespace b2bua::trunk
