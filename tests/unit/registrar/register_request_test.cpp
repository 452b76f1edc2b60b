#include "b2bua/registrar/register_request.h"

#include <gtest/gtest.h>

#include <memory>
#include <sofia-sip/msg.h>

namespace b2bua::registrar {
namespace {

struct MsgDeleter {
  void operator()(msg_t* m) const { msg_destroy(m); }
};

class Parsed {
 public:
  explicit Parsed(const std::string& headers) {
    std::string text = "REGISTER sip:home.arpa SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1\r\n"
                       "From: <sip:10@home.arpa>;tag=1\r\nTo: <sip:10@home.arpa>\r\n"
                       "Call-ID: abc\r\nCSeq: 7 REGISTER\r\nUser-Agent: Phone/1.0\r\n" +
                       headers + "Content-Length: 0\r\n\r\n";
    msg_.reset(msg_make(sip_default_mclass(), 0, text.data(), static_cast<isize_t>(text.size())));
  }
  const sip_t* sip() const { return sip_object(msg_.get()); }

 private:
  std::unique_ptr<msg_t, MsgDeleter> msg_;
};

config::Registrar limits() {
  config::Registrar r;
  r.min_expires = 60;
  r.max_expires = 3600;
  r.default_expires = 600;
  return r;
}

TEST(ParseRegister, ExpiresFromParameterHeaderOrDefault) {
  Parsed m("Contact: <sip:10@10.0.0.5>;expires=120, <sip:10@10.0.0.6>;q=0.5\r\nExpires: 300\r\n");
  ASSERT_NE(m.sip(), nullptr);
  auto p = parse_register(m.sip(), limits(), "10");
  ASSERT_EQ(p.status, 0);
  ASSERT_EQ(p.update.contacts.size(), 2u);
  EXPECT_EQ(p.update.contacts[0].expires, 120);
  EXPECT_EQ(p.update.contacts[1].expires, 300);
  EXPECT_DOUBLE_EQ(p.update.contacts[1].q, 0.5);
  EXPECT_EQ(p.update.call_id, "abc");
  EXPECT_EQ(p.update.cseq, 7u);
  EXPECT_EQ(p.update.user_agent, "Phone/1.0");

  Parsed d("Contact: <sip:10@10.0.0.5>\r\n");
  EXPECT_EQ(parse_register(d.sip(), limits(), "10").update.contacts.at(0).expires, 600);
}

TEST(ParseRegister, TooShortIs423TooLongIsClampedZeroRemoves) {
  Parsed brief("Contact: <sip:10@10.0.0.5>\r\nExpires: 30\r\n");
  EXPECT_EQ(parse_register(brief.sip(), limits(), "10").status, 423);
  Parsed longer("Contact: <sip:10@10.0.0.5>;expires=99999\r\n");
  EXPECT_EQ(parse_register(longer.sip(), limits(), "10").update.contacts.at(0).expires, 3600);
  Parsed zero("Contact: <sip:10@10.0.0.5>\r\nExpires: 0\r\n");
  auto p = parse_register(zero.sip(), limits(), "10");
  EXPECT_EQ(p.status, 0);
  EXPECT_EQ(p.update.contacts.at(0).expires, 0);
}

TEST(ParseRegister, WildcardOnlyAloneWithExpiresZero) {
  Parsed ok("Contact: *\r\nExpires: 0\r\n");
  auto p = parse_register(ok.sip(), limits(), "10");
  EXPECT_EQ(p.status, 0);
  EXPECT_TRUE(p.update.wildcard);
  Parsed no_expires("Contact: *\r\n");
  EXPECT_EQ(parse_register(no_expires.sip(), limits(), "10").status, 400);
  Parsed nonzero("Contact: *\r\nExpires: 60\r\n");
  EXPECT_EQ(parse_register(nonzero.sip(), limits(), "10").status, 400);
}

TEST(ParseRegister, NoContactIsAQuery) {
  Parsed q("");
  auto p = parse_register(q.sip(), limits(), "10");
  EXPECT_EQ(p.status, 0);
  EXPECT_TRUE(p.update.contacts.empty());
  EXPECT_FALSE(p.update.wildcard);
}

TEST(ParseRegister, InstanceAndBadQ) {
  Parsed inst("Contact: <sip:10@10.0.0.5;ob>;+sip.instance=\"<urn:uuid:1>\";reg-id=1\r\n");
  auto p = parse_register(inst.sip(), limits(), "10");
  ASSERT_EQ(p.status, 0);
  EXPECT_EQ(p.update.contacts.at(0).instance, "<urn:uuid:1>");
  EXPECT_EQ(p.update.contacts.at(0).uri, "sip:10@10.0.0.5;ob");
  Parsed bad_q("Contact: <sip:10@10.0.0.5>;q=7\r\n");
  EXPECT_EQ(parse_register(bad_q.sip(), limits(), "10").status, 400);
}

}  // namespace
}  // namespace b2bua::registrar
