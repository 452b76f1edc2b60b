#include "b2bua/registrar/auth_guard.h"

#include <gtest/gtest.h>

namespace b2bua::registrar {
namespace {

// Blocks: 3 failures in 10 s block for 60 s. Locks: 6 failures from 3 addresses in 100 s lock
// for 300 s.
GuardSettings small_settings() {
  GuardSettings s;
  s.failures = 3;
  s.window_s = 10;
  s.duration_s = 60;
  s.lock_failures = 6;
  s.lock_sources = 3;
  s.lock_window_s = 100;
  s.lock_duration_s = 300;
  return s;
}

bool fail(AuthGuard& g, const std::string& source, int64_t now, const std::string& user = "10") {
  return g.record_failure(source, user, true, now).source_blocked;
}

TEST(AuthGuard, BlocksAfterFailuresWithinWindowOnce) {
  AuthGuard g(small_settings());
  EXPECT_FALSE(fail(g, "192.0.2.1", 100));
  EXPECT_FALSE(fail(g, "192.0.2.1", 101));
  EXPECT_FALSE(g.blocked("192.0.2.1", 101));
  EXPECT_TRUE(fail(g, "192.0.2.1", 102));  // the one that starts the block
  EXPECT_TRUE(g.blocked("192.0.2.1", 102));
  EXPECT_FALSE(fail(g, "192.0.2.1", 103));  // no second log line for the same block
  EXPECT_FALSE(g.blocked("192.0.2.2", 102));
  EXPECT_EQ(g.blocked_count(102), 1u);
  EXPECT_TRUE(g.blocked("192.0.2.1", 161));
  EXPECT_FALSE(g.blocked("192.0.2.1", 162));
}

TEST(AuthGuard, FailuresOutsideTheWindowDoNotAddUp) {
  AuthGuard g(small_settings());
  EXPECT_FALSE(fail(g, "192.0.2.1", 100));
  EXPECT_FALSE(fail(g, "192.0.2.1", 105));
  EXPECT_FALSE(fail(g, "192.0.2.1", 111));
  EXPECT_FALSE(g.blocked("192.0.2.1", 111));
}

TEST(AuthGuard, FailuresForDifferentUsersAddUp) {
  AuthGuard g(small_settings());
  EXPECT_FALSE(fail(g, "192.0.2.1", 100, "10"));
  EXPECT_FALSE(fail(g, "192.0.2.1", 100, "11"));
  EXPECT_TRUE(g.record_failure("192.0.2.1", "nobody", false, 100).source_blocked) << "unknown names count too";
}

// A phone that mistyped its own password and then got it right starts afresh.
TEST(AuthGuard, SuccessForgetsThatUsersFailures) {
  AuthGuard g(small_settings());
  fail(g, "192.0.2.1", 100);
  fail(g, "192.0.2.1", 100);
  g.record_success("192.0.2.1", "10", 100);
  EXPECT_FALSE(fail(g, "192.0.2.1", 101));
  EXPECT_FALSE(fail(g, "192.0.2.1", 101));
  EXPECT_FALSE(g.blocked("192.0.2.1", 101));
  EXPECT_EQ(g.tracked_sources(), 1u);
}

// One known password (its own phone, or one already guessed) between guesses for another
// extension does not reset the count: the guesses still block.
TEST(AuthGuard, SuccessDoesNotLaunderGuessesForOtherUsers) {
  AuthGuard g(small_settings());
  EXPECT_FALSE(fail(g, "192.0.2.1", 100, "11"));
  g.record_success("192.0.2.1", "10", 100);
  EXPECT_FALSE(fail(g, "192.0.2.1", 101, "12"));
  g.record_success("192.0.2.1", "10", 101);
  EXPECT_TRUE(fail(g, "192.0.2.1", 102, "11"));
  EXPECT_TRUE(g.blocked("192.0.2.1", 102));
  g.record_success("192.0.2.1", "11", 103);
  EXPECT_TRUE(g.blocked("192.0.2.1", 103)) << "a success does not lift a block";
}

TEST(AuthGuard, ZeroDurationNeverBlocks) {
  GuardSettings s = small_settings();
  s.duration_s = 0;
  AuthGuard g(s);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(fail(g, "192.0.2.1", 100));
  EXPECT_FALSE(g.blocked("192.0.2.1", 100));
}

// A full table forgets the address that failed least recently, never the newcomer: filling
// the table first does not buy an attacker an address the guard ignores.
TEST(AuthGuard, FullTableForgetsTheOldestEntry) {
  GuardSettings s = small_settings();
  s.max_sources = 4;
  AuthGuard g(s);
  for (int i = 0; i < 4; ++i) fail(g, "192.0.2." + std::to_string(i), 100);
  fail(g, "192.0.2.0", 101);  // .0 failed again: now .1 is the oldest
  EXPECT_EQ(g.tracked_sources(), 4u);
  // Every entry is live (within its window); the newcomer is still counted and blocked.
  for (int i = 0; i < 3; ++i) fail(g, "198.51.100.1", 102);
  EXPECT_TRUE(g.blocked("198.51.100.1", 102));
  EXPECT_EQ(g.tracked_sources(), 4u);
  EXPECT_TRUE(fail(g, "192.0.2.0", 103)) << ".0 was kept: its third failure blocks";
  EXPECT_FALSE(fail(g, "192.0.2.1", 103)) << ".1 was forgotten: this is its first failure again";
  for (int i = 0; i < 100; ++i) fail(g, "203.0.113." + std::to_string(i), 104);
  EXPECT_EQ(g.tracked_sources(), 4u);
}

TEST(AuthGuard, EntriesThatRanTheirCourseLeave) {
  AuthGuard g(small_settings());
  fail(g, "192.0.2.1", 100);
  fail(g, "192.0.2.2", 100);
  fail(g, "192.0.2.3", 200);  // the others' windows are long over
  EXPECT_EQ(g.tracked_sources(), 1u);
}

// Four addresses, each under the block, guess 10 from many sides: the sixth failure locks it,
// once; the lock is shown until it ends.
TEST(AuthGuard, ExtensionFailingFromManySourcesIsLocked) {
  AuthGuard g(small_settings());
  const char* sources[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3"};
  for (int i = 0; i < 5; ++i) {
    auto outcome = g.record_failure(sources[i % 3], "10", true, 100 + i);
    EXPECT_FALSE(outcome.extension_locked) << i;
    EXPECT_FALSE(outcome.source_blocked) << i;
  }
  EXPECT_FALSE(g.locked("10", 104));
  auto outcome = g.record_failure("192.0.2.4", "10", true, 105);
  ASSERT_TRUE(outcome.extension_locked);
  EXPECT_EQ(outcome.extension_locked->extension, "10");
  EXPECT_EQ(outcome.extension_locked->sources, 4u);
  EXPECT_EQ(outcome.extension_locked->failures, 6u);
  EXPECT_EQ(outcome.extension_locked->until, 405);
  EXPECT_TRUE(g.locked("10", 105));
  EXPECT_FALSE(g.locked("11", 105));
  EXPECT_FALSE(g.record_failure("192.0.2.5", "10", true, 106).extension_locked) << "logged once per lock";
  auto locks = g.locks(200);
  ASSERT_EQ(locks.size(), 1u);
  EXPECT_EQ(locks[0].since, 105);
  EXPECT_TRUE(g.locked("10", 404));
  EXPECT_FALSE(g.locked("10", 405));
  EXPECT_TRUE(g.locks(405).empty());
}

// The extension's own phone succeeding meanwhile does not clear the count (its refreshes would
// launder a slow guess); neither does anything clear a lock but time.
TEST(AuthGuard, SuccessDoesNotClearAnExtensionsFailures) {
  AuthGuard g(small_settings());
  for (int i = 0; i < 5; ++i) g.record_failure("192.0.2." + std::to_string(i % 3), "10", true, 100);
  g.record_success("192.0.2.9", "10", 101);
  g.record_success("192.0.2.0", "10", 101);
  EXPECT_TRUE(g.record_failure("192.0.2.1", "10", true, 102).extension_locked);
  g.record_success("192.0.2.9", "10", 103);
  EXPECT_TRUE(g.locked("10", 103));
}

// Failures from too few addresses are the first rule's business (or a phone with an old
// password), not a lock.
TEST(AuthGuard, TooFewSourcesDoNotLock) {
  GuardSettings s = small_settings();
  s.duration_s = 0;  // no blocks, so two addresses can fail on and on
  AuthGuard g(s);
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(g.record_failure(i % 2 ? "192.0.2.1" : "192.0.2.2", "10", true, 100 + i).extension_locked);
  EXPECT_FALSE(g.locked("10", 120));
  EXPECT_TRUE(g.record_failure("192.0.2.3", "10", true, 121).extension_locked) << "the third address completes it";
}

TEST(AuthGuard, LockWindowSlides) {
  AuthGuard g(small_settings());
  for (int i = 0; i < 5; ++i) g.record_failure("192.0.2." + std::to_string(i), "10", true, 100);
  // 100 s later the first five are out of the window: five more are needed.
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(g.record_failure("192.0.2." + std::to_string(i), "10", true, 200).extension_locked);
  EXPECT_TRUE(g.record_failure("192.0.2.9", "10", true, 201).extension_locked);
}

TEST(AuthGuard, UnknownUsersAreNotTrackedPerExtension) {
  AuthGuard g(small_settings());
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(g.record_failure("192.0.2." + std::to_string(i), "999", false, 100).extension_locked);
  EXPECT_FALSE(g.locked("999", 100));
  EXPECT_EQ(g.tracked_extensions(), 0u);
}

TEST(AuthGuard, ZeroLockDurationNeverLocks) {
  GuardSettings s = small_settings();
  s.lock_duration_s = 0;
  AuthGuard g(s);
  for (int i = 0; i < 30; ++i) EXPECT_FALSE(g.record_failure("192.0.2." + std::to_string(i), "10", true, 100).extension_locked);
  EXPECT_EQ(g.tracked_extensions(), 0u);
}

TEST(AuthGuard, TrackedExtensionsAreBounded) {
  GuardSettings s = small_settings();
  s.max_extensions = 2;
  AuthGuard g(s);
  for (int i = 0; i < 10; ++i) g.record_failure("192.0.2.1", std::to_string(100 + i), true, 100);
  EXPECT_EQ(g.tracked_extensions(), 2u);
}

TEST(RecentMap, TouchRenewsAndFullMapForgetsTheOldest) {
  RecentMap<int> m(2);
  m.touch("a") = 1;
  m.touch("b") = 2;
  m.touch("a") = 3;  // a is now the newest
  m.touch("c") = 4;
  const RecentMap<int>& view = m;
  EXPECT_EQ(view.find("b"), nullptr);
  const int* a = view.find("a");
  EXPECT_EQ(a ? *a : -1, 3);
  m.drop_oldest_while([](int v) { return v < 4; });
  EXPECT_EQ(m.size(), 1u);
  m.set_capacity(0);
  EXPECT_EQ(m.size(), 0u);
}

}  // namespace
}  // namespace b2bua::registrar
