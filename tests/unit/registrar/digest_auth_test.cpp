#include "b2bua/registrar/digest_auth.h"

#include <gtest/gtest.h>

namespace b2bua::registrar {
namespace {

constexpr int64_t kNow = 1'700'000'000;

DigestSettings settings(size_t max_tracked = 65536) {
  DigestSettings s;
  s.realm = "home.arpa";
  s.nonce_lifetime_s = 300;
  s.max_tracked_nonces = max_tracked;
  return s;
}

// What a phone sends for `password` on `nonce` with count `nc`.
DigestResponse answer(const std::string& nonce, const std::string& password, uint32_t nc, bool sha = false,
                      const std::string& user = "10") {
  DigestResponse r;
  r.username = user;
  r.realm = "home.arpa";
  r.nonce = nonce;
  r.uri = "sip:home.arpa";
  r.algorithm = sha ? "SHA-256" : "MD5";
  r.cnonce = "c0ffee";
  r.qop = "auth";
  char nc_text[9];
  std::snprintf(nc_text, sizeof nc_text, "%08x", nc);
  r.nc = nc_text;
  std::string ha1 = sha ? sha256_hex(user + ":home.arpa:" + password) : md5_hex(user + ":home.arpa:" + password);
  r.response = digest_response(sha, ha1, r, "REGISTER");
  return r;
}

const DigestSecret kPassword{std::string("secret"), std::nullopt};

TEST(DigestResponse, Rfc2617Example) {
  // RFC 2617 section 3.5 (the RFC's printed response uses the same inputs).
  DigestResponse r;
  r.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
  r.uri = "/dir/index.html";
  r.nc = "00000001";
  r.cnonce = "0a4f113b";
  r.qop = "auth";
  std::string ha1 = md5_hex("Mufasa:testrealm@host.com:Circle Of Life");
  EXPECT_EQ(ha1, "939e7578ed9e3c518a452acee763bce9");
  EXPECT_EQ(digest_response(false, ha1, r, "GET"), "6629fae49393a05397450978507c4ef1");
}

TEST(DigestResponse, Rfc7616Sha256Example) {
  DigestResponse r;
  r.nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
  r.uri = "/dir/index.html";
  r.nc = "00000001";
  r.cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
  r.qop = "auth";
  std::string ha1 = sha256_hex("Mufasa:http-auth@example.org:Circle of Life");
  EXPECT_EQ(digest_response(true, ha1, r, "GET"), "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

TEST(DigestAuth, RightPasswordIsAccepted) {
  DigestAuth auth(settings(), "k");
  std::string nonce = auth.make_nonce(kNow);
  EXPECT_EQ(auth.verify(answer(nonce, "secret", 1), "REGISTER", &kPassword, kNow + 1), DigestVerdict::ok);
}

TEST(DigestAuth, WrongPasswordAndUnknownUserFailAlike) {
  DigestAuth auth(settings(), "k");
  std::string nonce = auth.make_nonce(kNow);
  EXPECT_EQ(auth.verify(answer(nonce, "guess", 1), "REGISTER", &kPassword, kNow), DigestVerdict::failed);
  EXPECT_EQ(auth.verify(answer(nonce, "secret", 2, false, "99"), "REGISTER", nullptr, kNow), DigestVerdict::failed);
}

TEST(DigestAuth, Ha1IsAcceptedInAnyCase) {
  DigestAuth auth(settings(), "k");
  DigestSecret ha1_only{std::nullopt, md5_hex("10:home.arpa:secret")};
  for (auto& ch : *ha1_only.ha1_md5) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  std::string nonce = auth.make_nonce(kNow);
  EXPECT_EQ(auth.verify(answer(nonce, "secret", 1), "REGISTER", &ha1_only, kNow), DigestVerdict::ok);
  // SHA-256 needs the password: an HA1-only extension cannot use it.
  EXPECT_EQ(auth.verify(answer(nonce, "secret", 2, true), "REGISTER", &ha1_only, kNow), DigestVerdict::failed);
}

TEST(DigestAuth, Sha256WithPassword) {
  DigestAuth auth(settings(), "k");
  std::string nonce = auth.make_nonce(kNow);
  EXPECT_EQ(auth.verify(answer(nonce, "secret", 1, true), "REGISTER", &kPassword, kNow), DigestVerdict::ok);
}

TEST(DigestAuth, NonceCountReplayIsStale) {
  DigestAuth auth(settings(), "k");
  std::string nonce = auth.make_nonce(kNow);
  EXPECT_EQ(auth.verify(answer(nonce, "secret", 1), "REGISTER", &kPassword, kNow), DigestVerdict::ok);
  EXPECT_EQ(auth.verify(answer(nonce, "secret", 1), "REGISTER", &kPassword, kNow), DigestVerdict::stale);
  EXPECT_EQ(auth.verify(answer(nonce, "secret", 3), "REGISTER", &kPassword, kNow), DigestVerdict::ok);
  EXPECT_EQ(auth.verify(answer(nonce, "secret", 2), "REGISTER", &kPassword, kNow), DigestVerdict::stale);
}

TEST(DigestAuth, ExpiredNonceIsStaleOnlyWithRightPassword) {
  DigestAuth auth(settings(), "k");
  std::string nonce = auth.make_nonce(kNow);
  EXPECT_EQ(auth.verify(answer(nonce, "secret", 1), "REGISTER", &kPassword, kNow + 301), DigestVerdict::stale);
  EXPECT_EQ(auth.verify(answer(nonce, "guess", 1), "REGISTER", &kPassword, kNow + 301), DigestVerdict::failed);
}

TEST(DigestAuth, NonceFromAnotherSecretIsChallenged) {
  DigestAuth ours(settings(), "k1");
  DigestAuth theirs(settings(), "k2");
  std::string nonce = theirs.make_nonce(kNow);
  EXPECT_EQ(ours.verify(answer(nonce, "secret", 1), "REGISTER", &kPassword, kNow), DigestVerdict::challenge);
  std::string tampered = ours.make_nonce(kNow);
  tampered[3] = tampered[3] == '0' ? '1' : '0';  // move the issue time
  EXPECT_EQ(ours.verify(answer(tampered, "secret", 1), "REGISTER", &kPassword, kNow), DigestVerdict::challenge);
}

TEST(DigestAuth, OtherRealmIsChallenged) {
  DigestAuth auth(settings(), "k");
  DigestResponse r = answer(auth.make_nonce(kNow), "secret", 1);
  r.realm = "elsewhere";
  EXPECT_EQ(auth.verify(r, "REGISTER", &kPassword, kNow), DigestVerdict::challenge);
}

TEST(DigestAuth, WithoutQopThereIsNoReplayCheckSoItFails) {
  DigestAuth auth(settings(), "k");
  DigestResponse r = answer(auth.make_nonce(kNow), "secret", 1);
  r.qop.clear();
  EXPECT_EQ(auth.verify(r, "REGISTER", &kPassword, kNow), DigestVerdict::failed);
}

TEST(DigestAuth, EvictedNonceCannotBeReplayed) {
  DigestAuth auth(settings(2), "k");
  std::string a = auth.make_nonce(kNow), b = auth.make_nonce(kNow + 1), c = auth.make_nonce(kNow + 2);
  EXPECT_EQ(auth.verify(answer(a, "secret", 1), "REGISTER", &kPassword, kNow + 3), DigestVerdict::ok);
  EXPECT_EQ(auth.verify(answer(b, "secret", 1), "REGISTER", &kPassword, kNow + 3), DigestVerdict::ok);
  EXPECT_EQ(auth.verify(answer(c, "secret", 1), "REGISTER", &kPassword, kNow + 3), DigestVerdict::ok);  // evicts a
  EXPECT_EQ(auth.verify(answer(a, "secret", 1), "REGISTER", &kPassword, kNow + 3), DigestVerdict::stale);
  EXPECT_EQ(auth.verify(answer(a, "secret", 9), "REGISTER", &kPassword, kNow + 3), DigestVerdict::stale);
}

TEST(DigestAuth, ChallengesOfferSha256FirstWhenEnabled) {
  DigestSettings s = settings();
  s.offer_sha256 = true;
  DigestAuth auth(s, "k");
  auto ch = auth.challenges(kNow, true);
  ASSERT_EQ(ch.size(), 2u);
  EXPECT_NE(ch[0].find("algorithm=SHA-256"), std::string::npos);
  EXPECT_NE(ch[1].find("algorithm=MD5"), std::string::npos);
  EXPECT_NE(ch[0].find("stale=true"), std::string::npos);
  EXPECT_NE(ch[0].find("realm=\"home.arpa\""), std::string::npos);
  EXPECT_NE(ch[0].find("qop=\"auth\""), std::string::npos);
  EXPECT_EQ(DigestAuth(settings(), "k").challenges(kNow, false).size(), 1u);
}

TEST(DigestAuth, NoncesAreUnique) {
  DigestAuth auth(settings(), "k");
  EXPECT_NE(auth.make_nonce(kNow), auth.make_nonce(kNow));
}

// A Request-URI as sofia's message parser leaves it (url_d on its own copy).
class RequestUri {
 public:
  explicit RequestUri(const char* text) : url_(url_make(nullptr, text)) {}
  ~RequestUri() { su_free(nullptr, url_); }
  RequestUri(const RequestUri&) = delete;
  RequestUri& operator=(const RequestUri&) = delete;
  const url_t* get() const { return url_; }

 private:
  url_t* url_;
};

bool same(const char* digest_uri, const char* request_uri) {
  RequestUri ruri(request_uri);
  EXPECT_NE(ruri.get(), nullptr) << request_uri;
  return same_resource(digest_uri, ruri.get());
}

TEST(DigestUri, TheSameResourceWrittenDifferentlyMatches) {
  EXPECT_TRUE(same("sip:0301234567@192.168.1.1:5060", "sip:0301234567@192.168.1.1:5060"));
  EXPECT_TRUE(same("sip:home.arpa", "sip:home.arpa"));  // a REGISTER's
  // RFC 3261 19.1.4: scheme and host in any case, the user %-escaped or not.
  EXPECT_TRUE(same("SIP:0301234567@Router.Home.ARPA", "sip:0301234567@router.home.arpa"));
  EXPECT_TRUE(same("sip:%31%30@home.arpa", "sip:10@home.arpa"));
  // An absent port is the default one, either way round; sips defaults to 5061.
  EXPECT_TRUE(same("sip:10@192.168.1.1", "sip:10@192.168.1.1:5060"));
  EXPECT_TRUE(same("sip:10@home.arpa:5060", "sip:10@home.arpa"));
  EXPECT_TRUE(same("sips:10@home.arpa", "sips:10@home.arpa:5061"));
  // IPv6 addresses by value.
  EXPECT_TRUE(same("sip:10@[::1]:5080", "sip:10@[0:0::1]:5080"));
  // Parameters in any order and case; one that is only in one URI and not user, ttl, method
  // or maddr is ignored.
  EXPECT_TRUE(same("sip:0301234567@h.arpa;transport=udp;user=phone", "sip:0301234567@h.arpa;user=phone;transport=UDP"));
  EXPECT_TRUE(same("sip:0301234567@h.arpa", "sip:0301234567@h.arpa;transport=udp"));
  EXPECT_TRUE(same("sip:0301234567@h.arpa;lr;x=1", "sip:0301234567@h.arpa"));
}

TEST(DigestUri, AnotherResourceDoesNotMatch) {
  // Another number: the replay this check is for.
  EXPECT_FALSE(same("sip:0301234567@192.168.1.1:5060", "sip:0900123456@192.168.1.1:5060"));
  // No user where the request has one (sipp's default digest uri for an INVITE), and back.
  EXPECT_FALSE(same("sip:192.168.1.1:5060", "sip:0301234567@192.168.1.1:5060"));
  EXPECT_FALSE(same("sip:10@home.arpa", "sip:home.arpa"));
  // The user is case-sensitive (RFC 3261 19.1.4).
  EXPECT_FALSE(same("sip:Alice@home.arpa", "sip:alice@home.arpa"));
  EXPECT_FALSE(same("sip:10:pw@home.arpa", "sip:10@home.arpa"));
  EXPECT_FALSE(same("sip:10@other.arpa", "sip:10@home.arpa"));
  EXPECT_FALSE(same("sip:10@192.168.1.2", "sip:10@192.168.1.1"));
  EXPECT_FALSE(same("sip:10@home.arpa:5080", "sip:10@home.arpa"));
  EXPECT_FALSE(same("sip:10@home.arpa:5061", "sip:10@home.arpa:5062"));
  EXPECT_FALSE(same("sips:10@home.arpa", "sip:10@home.arpa"));
  EXPECT_FALSE(same("tel:0301234567", "sip:0301234567@home.arpa"));
  // user, ttl, method and maddr count when only one URI has them; a value differing counts always.
  EXPECT_FALSE(same("sip:0301234567@h.arpa;user=phone", "sip:0301234567@h.arpa"));
  EXPECT_FALSE(same("sip:0301234567@h.arpa", "sip:0301234567@h.arpa;maddr=192.0.2.1"));
  EXPECT_FALSE(same("sip:0301234567@h.arpa;method=INVITE", "sip:0301234567@h.arpa"));
  EXPECT_FALSE(same("sip:0301234567@h.arpa;transport=tcp", "sip:0301234567@h.arpa;transport=udp"));
  // URI headers are never ignored.
  EXPECT_FALSE(same("sip:0301234567@h.arpa?subject=x", "sip:0301234567@h.arpa"));
}

TEST(DigestUri, GarbageDoesNotMatch) {
  for (const char* garbage : {"", "*", "sip:", "sip:@", "not a uri", "sip:10@home.arpa:50x0", "sip:10@home.arpa:99999",
                              "/dir/index.html", "sip:10@home.arpa%"}) {
    EXPECT_FALSE(same(garbage, "sip:10@home.arpa")) << garbage;
  }
  EXPECT_FALSE(same_resource("sip:10@home.arpa", nullptr));
}

TEST(DigestUri, TheCheckOfRegisterAndInviteAnswersByTheUriAlone) {
  RequestUri ruri("sip:0301234567@192.168.1.1:5060");
  DigestResponse r;
  r.username = "10";
  r.uri = "sip:0301234567@192.168.1.1";
  EXPECT_TRUE(digest_uri_matches(r, ruri.get(), "192.168.1.20", "INVITE"));
  r.uri = "sip:0900123456@192.168.1.1";
  EXPECT_FALSE(digest_uri_matches(r, ruri.get(), "192.168.1.20", "INVITE"));
  r.username = "no-such-user";  // known or not: the same answer
  EXPECT_FALSE(digest_uri_matches(r, ruri.get(), "192.168.1.20", "INVITE"));
}

}  // namespace
}  // namespace b2bua::registrar
