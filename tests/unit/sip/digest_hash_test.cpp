#include "b2bua/sip/digest_hash.h"

#include <gtest/gtest.h>

namespace b2bua::sip {
namespace {

TEST(DigestHash, Rfc2617Example) {
  // RFC 2617 section 3.5: HA1 of Mufasa's credentials.
  EXPECT_EQ(md5_hex("Mufasa:testrealm@host.com:Circle Of Life"), "939e7578ed9e3c518a452acee763bce9");
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(DigestHash, Rfc8760Sha256) {
  // RFC 7616 section 3.9.1 (the SHA-256 example RFC 8760 points to): HA1.
  EXPECT_EQ(sha256_hex("Mufasa:http-auth@example.org:Circle of Life"),
            "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232");
}

TEST(DigestHash, Unquote) {
  EXPECT_EQ(unquote("\"home.arpa\""), "home.arpa");
  EXPECT_EQ(unquote("\"a\\\"b\""), "a\"b");
  EXPECT_EQ(unquote("MD5"), "MD5");
  EXPECT_EQ(unquote("\""), "\"");
}

}  // namespace
}  // namespace b2bua::sip
