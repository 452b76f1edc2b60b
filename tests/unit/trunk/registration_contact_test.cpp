#include "b2bua/trunk/registration_contact.h"

#include <gtest/gtest.h>

#include <cstring>

#include "b2bua/trunk/binding_check.h"
#include "b2bua/trunk/provider_auth.h"
#include "sip_message.h"

namespace b2bua::trunk {
namespace {

const char* kVia = "SIP/2.0/UDP 192.168.1.2:5060;branch=z9hG4bK1";

unsigned granted(const std::string& contact, const HostPort& sent, unsigned asked = 600) {
  auto m = test::parse_message(test::register_response(200, kVia, contact));
  return granted_expiry(test::sip_of(m), "tok", sent, asked);
}

TEST(GrantedExpiry, OurContactsParameterWins) {
  HostPort sent{"203.0.113.7", 40000};
  EXPECT_EQ(granted("<sip:tok@203.0.113.7:40000>;expires=120, <sip:other@198.51.100.1>;expires=30", sent), 120u);
  EXPECT_EQ(granted("<sip:tok@198.51.100.9:5060>;expires=90, <sip:tok@203.0.113.7:40000>;expires=60", sent), 60u)
      << "the Contact we sent, not the first of ours";
  EXPECT_EQ(granted("<sip:tok@198.51.100.9:5060>;expires=90", sent), 90u) << "else another of ours";
  EXPECT_EQ(granted("<sip:other@198.51.100.1>;expires=30", sent, 300), 300u) << "none of ours: what we asked";
  EXPECT_EQ(granted("<sip:tok@203.0.113.7:40000>;expires=0", sent), 0u) << "a binding the registrar did not keep";
  EXPECT_EQ(granted("<sip:tok@203.0.113.7>;expires=45", HostPort{"203.0.113.7", 5060}), 45u)
      << "a URI without a port means 5060";
}

// The answer to our binding query: does the registrar still hold a binding of ours?
bool listed(const std::string& contacts) {
  auto m = test::parse_message(test::register_response(200, kVia, contacts));
  return lists_binding(test::sip_of(m), "tok");
}

TEST(ListsBinding, OursByTokenWhateverAddressTheRegistrarRecorded) {
  EXPECT_TRUE(listed("<sip:tok@203.0.113.7:40000>;expires=120"));
  EXPECT_TRUE(listed("<sip:other@198.51.100.1>;expires=30, <sip:tok@198.51.100.9:5060;transport=tcp>;expires=90"))
      << "a registrar that rewrote our Contact to the address it saw still holds it";
  EXPECT_FALSE(listed("")) << "no Contact at all: the registrar forgot us";
  EXPECT_FALSE(listed("<sip:other@198.51.100.1>;expires=30")) << "someone else's binding only";
  EXPECT_FALSE(listed("<sip:tok@203.0.113.7:40000>;expires=0")) << "a binding on its way out";
}

TEST(RegistrationContact, RemovesTheBindingItLeaves) {
  NatAddress nat(std::nullopt, {"192.168.1.2", 5060});
  RegistrationContact contact("tok", config::Transport::udp, nat);
  EXPECT_EQ(contact.next_register(), "<sip:tok@b2bua.invalid:5060>") << "never the private address";
  auto first = test::parse_message(
      test::register_response(200, "SIP/2.0/UDP 192.168.1.2;rport=40000;received=203.0.113.7", ""));
  ASSERT_TRUE(nat.learn(test::sip_of(first)->sip_via));
  EXPECT_TRUE(contact.moved());
  contact.leave_sent();
  EXPECT_EQ(contact.next_register(), "<sip:tok@203.0.113.7:40000>, <sip:tok@b2bua.invalid:5060>;expires=0");
  contact.registered();

  auto second = test::parse_message(
      test::register_response(200, "SIP/2.0/UDP 192.168.1.2;rport=40001;received=203.0.113.7", ""));
  ASSERT_TRUE(nat.learn(test::sip_of(second)->sip_via));
  contact.leave_sent();
  EXPECT_EQ(contact.next_register(), "<sip:tok@203.0.113.7:40001>, <sip:tok@203.0.113.7:40000>;expires=0");
  EXPECT_FALSE(contact.moved());
  contact.registered();
  EXPECT_EQ(contact.next_register(), "<sip:tok@203.0.113.7:40001>");
}

TEST(RegistrationContact, KeepsQuietAboutAPublicBindAddressOnUdp) {
  NatAddress nat(std::nullopt, {"203.0.113.2", 5060});
  RegistrationContact contact("tok", config::Transport::udp, nat);
  EXPECT_EQ(contact.next_register(), "<sip:tok@203.0.113.2:5060>");
  auto m = test::parse_message(
      test::register_response(200, "SIP/2.0/UDP 203.0.113.2;rport=5070;received=203.0.113.2", ""));
  ASSERT_TRUE(nat.learn(test::sip_of(m)->sip_via));
  contact.leave_sent();
  EXPECT_EQ(contact.next_register(), "<sip:tok@203.0.113.2:5070>") << "the bind address's binding expires on its own";
}

TEST(RegistrationContact, NamesTheTransport) {
  NatAddress nat(std::nullopt, {"203.0.113.2", 5061});
  RegistrationContact contact("tok", config::Transport::tls, nat);
  EXPECT_EQ(contact.current(), "<sip:tok@203.0.113.2:5061;transport=tls>");
}

const char* tag_text(const tagi_t& t) { return reinterpret_cast<const char*>(t.t_value); }

TEST(ProviderAuth, OwnAnswerGoesWithTheChallengedCallId) {
  DigestChallenge sha;
  sha.realm = "p.test";
  sha.nonce = "n1";
  sha.algorithm = "SHA-256";
  sha.qop = "auth";
  sha.proxy = true;
  auto challenged = test::parse_message(test::register_response(407, kVia, ""));
  ProviderAuth auth;
  EXPECT_EQ(auth.tags()[0].t_tag, nullptr) << "nothing kept: only the end of the list";
  ASSERT_EQ(auth.answer(nullptr, {sha}, test::sip_of(challenged), "u", "pw", "REGISTER", "sip:p.test"),
            ProviderAuth::Answered::by_us);
  EXPECT_EQ(auth.algorithm(), "SHA-256");
  const tagi_t* tags = auth.tags();
  EXPECT_EQ(tags[0].t_tag, siptag_proxy_authorization_str);
  EXPECT_EQ(std::strncmp(tag_text(tags[0]), "Digest username=\"u\"", 19), 0) << tag_text(tags[0]);
  EXPECT_EQ(tags[1].t_tag, siptag_call_id_str);
  EXPECT_STREQ(tag_text(tags[1]), "c1");
  EXPECT_EQ(tags[2].t_tag, nullptr);
  auth.clear();
  EXPECT_EQ(auth.tags()[0].t_tag, nullptr);

  DigestChallenge unknown = sha;
  unknown.algorithm = "SHA-512-256";
  EXPECT_EQ(auth.answer(nullptr, {unknown}, nullptr, "u", "pw", "REGISTER", "sip:p.test"), ProviderAuth::Answered::no);
}

TEST(ProviderAuth, AChallengeAfterOurAnswerIsAnsweredOnlyWhenStale) {
  DigestChallenge fresh{"p.test", "n1", "", "MD5", "auth", false, false};
  DigestChallenge stale = fresh;
  stale.stale = true;
  EXPECT_TRUE(worth_answering({fresh}, 0)) << "the first challenge";
  EXPECT_FALSE(worth_answering({fresh}, 1)) << "again after our answer: wrong credentials";
  EXPECT_TRUE(worth_answering({fresh, stale}, 1)) << "the nonce merely expired (RFC 2617 3.2.1)";
  EXPECT_FALSE(worth_answering({stale}, 3)) << "never more than three in a row";
  EXPECT_FALSE(worth_answering({}, 0)) << "nothing to answer";
}

}  // namespace
}  // namespace b2bua::trunk
