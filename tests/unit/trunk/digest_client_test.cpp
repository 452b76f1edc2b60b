#include "b2bua/trunk/digest_client.h"

#include <gtest/gtest.h>

#include "sip_message.h"

namespace b2bua::trunk {
namespace {

TEST(DigestClient, Rfc2617ExampleResponse) {
  // RFC 2617 section 3.5: the worked example (GET /dir/index.html, Mufasa / Circle Of Life).
  DigestChallenge c;
  c.realm = "testrealm@host.com";
  c.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
  c.opaque = "5ccc069c403ebaf9f0171e9517f40e41";
  c.qop = "auth,auth-int";
  std::string h = digest_authorization(c, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", 1, "0a4f113b");
  EXPECT_NE(h.find("response=\"6629fae49393a05397450978507c4ef1\""), std::string::npos) << h;
  EXPECT_NE(h.find("qop=auth, nc=00000001, cnonce=\"0a4f113b\""), std::string::npos) << h;
  EXPECT_NE(h.find("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""), std::string::npos) << h;
}

TEST(DigestClient, WithoutQopUsesRfc2069Response) {
  DigestChallenge c;
  c.realm = "r";
  c.nonce = "n";
  std::string h = digest_authorization(c, "u", "p", "REGISTER", "sip:r", 1, "x");
  std::string ha1 = md5_hex("u:r:p"), ha2 = md5_hex("REGISTER:sip:r");
  EXPECT_NE(h.find("response=\"" + md5_hex(ha1 + ":n:" + ha2) + "\""), std::string::npos) << h;
  EXPECT_EQ(h.find("qop="), std::string::npos);
}

TEST(DigestClient, MixedSha256AndMd5ChallengesPickMd5) {
  auto msg = test::parse_message(
      "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1\r\nFrom: <sip:u@p>;tag=1\r\n"
      "To: <sip:u@p>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n"
      "WWW-Authenticate: Digest realm=\"p.test\", nonce=\"abc\", algorithm=SHA-256, qop=\"auth\"\r\n"
      "WWW-Authenticate: Digest realm=\"p.test\", nonce=\"def\", algorithm=MD5, qop=\"auth\", stale=true\r\n"
      "Content-Length: 0\r\n\r\n");
  ASSERT_TRUE(msg);
  auto challenges = digest_challenges(test::sip_of(msg));
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_FALSE(sofia_can_answer(challenges)) << "sofia 1.12 fails on mixed algorithms";
  auto md5 = choose_challenge(challenges);
  ASSERT_TRUE(md5);
  EXPECT_EQ(md5->nonce, "def");
  EXPECT_EQ(md5->realm, "p.test");
  EXPECT_TRUE(md5->stale);
  EXPECT_FALSE(md5->proxy);
}

TEST(DigestClient, PlainMd5IsLeftToSofia) {
  auto msg = test::parse_message(
      "SIP/2.0 407 Proxy Authentication Required\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1\r\n"
      "From: <sip:u@p>;tag=1\r\nTo: <sip:u@p>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n"
      "Proxy-Authenticate: Digest realm=\"p.test\", nonce=\"abc\", qop=\"auth\"\r\nContent-Length: 0\r\n\r\n");
  auto challenges = digest_challenges(test::sip_of(msg));
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_TRUE(challenges[0].proxy);
  EXPECT_TRUE(sofia_can_answer(challenges));
}

TEST(DigestClient, OnlySha256IsAnsweredWithSha256) {
  std::vector<DigestChallenge> only{{"r", "n", "", "SHA-256", "auth", false, false}};
  EXPECT_FALSE(sofia_can_answer(only)) << "sofia 1.12 knows no SHA-256";
  auto chosen = choose_challenge(only);
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->algorithm, "SHA-256");
}

TEST(DigestClient, UnknownAlgorithmsLeaveNothingToAnswer) {
  std::vector<DigestChallenge> only{{"r", "n", "", "SHA-512-256", "auth", false, false}};
  EXPECT_FALSE(choose_challenge(only));
}

TEST(DigestClient, Rfc7616Sha256ExampleResponse) {
  // RFC 7616 section 3.9.1: the worked SHA-256 example.
  DigestChallenge c;
  c.realm = "http-auth@example.org";
  c.nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
  c.opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
  c.algorithm = "SHA-256";
  c.qop = "auth, auth-int";
  std::string h = digest_authorization(c, "Mufasa", "Circle of Life", "GET", "/dir/index.html", 1,
                                       "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
  EXPECT_NE(h.find("response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\""),
            std::string::npos)
      << h;
  EXPECT_NE(h.find("algorithm=SHA-256"), std::string::npos) << h;
}

}  // namespace
}  // namespace b2bua::trunk
