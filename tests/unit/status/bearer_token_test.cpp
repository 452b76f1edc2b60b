#include "b2bua/status/bearer_token.h"

#include <gtest/gtest.h>

namespace b2bua::status {
namespace {

const std::optional<std::string> kToken = std::string("s3cret-token-0123456789");

TEST(BearerToken, NoTokenConfiguredAllowsEveryone) {
  EXPECT_TRUE(authorized(nullptr, std::nullopt));
  EXPECT_TRUE(authorized("Bearer anything", std::nullopt));
}

TEST(BearerToken, AcceptsExactlyTheToken) {
  EXPECT_TRUE(authorized("Bearer s3cret-token-0123456789", kToken));
  EXPECT_TRUE(authorized("bearer s3cret-token-0123456789", kToken));  // scheme is case-insensitive
  EXPECT_TRUE(authorized("BEARER  s3cret-token-0123456789 ", kToken));
}

TEST(BearerToken, RejectsEverythingElse) {
  EXPECT_FALSE(authorized(nullptr, kToken));
  EXPECT_FALSE(authorized("", kToken));
  EXPECT_FALSE(authorized("Bearer", kToken));
  EXPECT_FALSE(authorized("Bearer ", kToken));
  EXPECT_FALSE(authorized("Basic s3cret-token-0123456789", kToken));
  EXPECT_FALSE(authorized("Bearer S3CRET-TOKEN-0123456789", kToken));     // the token is case-sensitive
  EXPECT_FALSE(authorized("Bearer s3cret-token-012345678", kToken));      // a prefix
  EXPECT_FALSE(authorized("Bearer s3cret-token-01234567890", kToken));    // longer
  EXPECT_FALSE(authorized("Bearers3cret-token-0123456789", kToken));
}

TEST(BearerToken, ConstantTimeEqualIsEquality) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal("ab", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", std::string_view("abc\0", 4)));
}

}  // namespace
}  // namespace b2bua::status
