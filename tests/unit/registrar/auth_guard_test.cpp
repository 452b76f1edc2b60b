#include "b2bua/registrar/auth_guard.h"

#include <gtest/gtest.h>

namespace b2bua::registrar {
namespace {

GuardSettings three_in_ten_for_sixty() {
  GuardSettings s;
  s.failures = 3;
  s.window_s = 10;
  s.duration_s = 60;
  return s;
}

TEST(AuthGuard, BlocksAfterFailuresWithinWindowOnce) {
  AuthGuard g(three_in_ten_for_sixty());
  EXPECT_FALSE(g.record_failure("192.0.2.1", 100));
  EXPECT_FALSE(g.record_failure("192.0.2.1", 101));
  EXPECT_FALSE(g.blocked("192.0.2.1", 101));
  EXPECT_TRUE(g.record_failure("192.0.2.1", 102));  // the one that starts the block
  EXPECT_TRUE(g.blocked("192.0.2.1", 102));
  EXPECT_FALSE(g.record_failure("192.0.2.1", 103));  // no second log line for the same block
  EXPECT_FALSE(g.blocked("192.0.2.2", 102));
  EXPECT_TRUE(g.blocked("192.0.2.1", 161));
  EXPECT_FALSE(g.blocked("192.0.2.1", 162));
}

TEST(AuthGuard, FailuresOutsideTheWindowDoNotAddUp) {
  AuthGuard g(three_in_ten_for_sixty());
  EXPECT_FALSE(g.record_failure("192.0.2.1", 100));
  EXPECT_FALSE(g.record_failure("192.0.2.1", 105));
  EXPECT_FALSE(g.record_failure("192.0.2.1", 111));
  EXPECT_FALSE(g.blocked("192.0.2.1", 111));
}

TEST(AuthGuard, SuccessForgetsFailures) {
  AuthGuard g(three_in_ten_for_sixty());
  g.record_failure("192.0.2.1", 100);
  g.record_failure("192.0.2.1", 100);
  g.record_success("192.0.2.1");
  EXPECT_FALSE(g.record_failure("192.0.2.1", 101));
  EXPECT_FALSE(g.blocked("192.0.2.1", 101));
}

TEST(AuthGuard, ZeroDurationNeverBlocks) {
  GuardSettings s = three_in_ten_for_sixty();
  s.duration_s = 0;
  AuthGuard g(s);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(g.record_failure("192.0.2.1", 100));
  EXPECT_FALSE(g.blocked("192.0.2.1", 100));
}

TEST(AuthGuard, TrackedAddressesAreBounded) {
  GuardSettings s = three_in_ten_for_sixty();
  s.max_sources = 4;
  AuthGuard g(s);
  for (int i = 0; i < 100; ++i) g.record_failure("192.0.2." + std::to_string(i), 100);
  EXPECT_LE(g.tracked(), 4u);
  // Once their windows have passed, room is made for new addresses.
  for (int i = 0; i < 3; ++i) g.record_failure("198.51.100.1", 200);
  EXPECT_TRUE(g.blocked("198.51.100.1", 200));
}

}  // namespace
}  // namespace b2bua::registrar
