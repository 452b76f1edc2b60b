// The password guard through a running plane, with in-process phones (sip_fixture.h): what a
// blocked source and a locked extension meet on the wire, for REGISTER and INVITE alike. Every
// peer here sends from 127.0.0.1, so the "many sources" of a lock are one here (lock_min_sources
// 1); the integration test (test_auth_edges.py) spreads them over 127.0.0.x.
#include <gtest/gtest.h>

#include <sofia-sip/nta_tag.h>

#include "sip_fixture.h"

namespace b2bua::testing {
namespace {

class GuardFlow : public ::testing::Test {
 protected:
  void start(const nlohmann::json& registrar) {
    nlohmann::json config = lan_config(lan_port_);
    config["registrar"].update(registrar);
    plane_ = std::make_unique<PlaneUnderTest>(loop_, config);
  }

  Phone& phone(const std::string& extension, const std::string& password) {
    phones_.push_back(std::make_unique<Phone>(loop_, extension, password, lan_port_));
    // An INVITE the plane never answers (that is the point here) cannot be cancelled before a
    // provisional answer (RFC 3261 9.1): the phone's stack ends it only at timer B, 64*T1. A
    // short T1 lets that happen within the fixture's shutdown bound instead of leaking the peer.
    nua_set_params(phones_.back()->nua(), NTATAG_SIP_T1(40), TAG_END());
    return *phones_.back();
  }

  // One INVITE from `p` to `number`; its final status (407 when the answer to our credentials
  // was another challenge), 0 when nothing final came within `bound_ms`.
  int call_status(Phone& p, const std::string& number, unsigned bound_ms = 3000) {
    nua_handle_t* nh = p.call(number);
    loop_.run_until([&] { return p.final_status(nua_r_invite, nh) != 0 || p.count(nua_r_invite, nh, 407) > 1; },
                    bound_ms);
    return p.count(nua_r_invite, nh, 407) > 1 ? 407 : p.final_status(nua_r_invite, nh);
  }

  std::string traces() const {
    std::string out;
    for (const auto& p : phones_) out += p->trace() + "\n";
    return out;
  }

  SipLoop loop_;
  const uint16_t lan_port_ = free_port();
  std::vector<std::unique_ptr<Phone>> phones_;
  std::unique_ptr<PlaneUnderTest> plane_;
};

// Two wrong passwords through INVITEs block 127.0.0.1. From then on its INVITEs and REGISTERs
// get no final answer at all, not even a 403 or a challenge, right password or not.
TEST_F(GuardFlow, BlockedSourceGetsNoAnswer) {
  start({{"block_after_failures", 2}});
  Phone& guesser = phone("10", "wrong-guess");
  EXPECT_EQ(call_status(guesser, "11"), 407) << traces();
  EXPECT_EQ(call_status(guesser, "11"), 407) << traces();
  EXPECT_EQ(plane_->status()["registrar"]["blocked_now"], 1);

  EXPECT_EQ(call_status(guesser, "11", 1500), 0) << "an INVITE of a blocked source is not answered\n" << traces();
  Phone& right = phone("10", "pw10");
  EXPECT_FALSE(right.register_now(1500)) << traces();
  EXPECT_EQ(right.count(nua_r_register), right.count(nua_r_register, nullptr, 100))
      << "no answer to the REGISTER but the transaction layer's 100\n" << traces();
  EXPECT_EQ(call_status(right, "11", 1500), 0) << traces();
  EXPECT_EQ(plane_->status()["calls"].size(), 0u);
}

// 10 is registered, then locked by wrong passwords (blocking off, so only the lock acts). Its
// phone's refresh from where it registered is accepted and it still calls and is called; the
// wrong passwords go on getting the usual answers.
TEST_F(GuardFlow, RegisteredPhoneKeepsWorkingWhileItsExtensionIsLocked) {
  start({{"block_duration", 0}, {"lock_after_failures", 2}, {"lock_min_sources", 1}});
  Phone& ten = phone("10", "pw10");
  ASSERT_TRUE(ten.register_now()) << traces();
  Phone& eleven = phone("11", "pw11");
  ASSERT_TRUE(eleven.register_now()) << traces();
  Phone& guesser = phone("10", "wrong-guess");
  EXPECT_FALSE(guesser.register_now(1500));
  EXPECT_EQ(call_status(guesser, "11"), 407) << traces();
  auto status = plane_->status();
  ASSERT_EQ(status["registrar"]["locked_extensions"].size(), 1u) << status["registrar"].dump();
  EXPECT_EQ(status["registrar"]["locked_extensions"][0]["ext"], "10");

  EXPECT_TRUE(ten.register_now()) << "the refresh of a registered phone\n" << traces();
  nua_handle_t* out = ten.call("11");
  EXPECT_TRUE(loop_.run_until([&] { return ten.count(nua_r_invite, out, 180) > 0; })) << traces();
  ten.cancel(out);
  EXPECT_TRUE(loop_.run_until([&] { return ten.final_status(nua_r_invite, out) == 487; })) << traces();
}

}  // namespace
}  // namespace b2bua::testing
