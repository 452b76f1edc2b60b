// Call flows through a running signalling plane, with in-process phones and provider
// (sip_fixture.h): each test is one flow or one race, asserted on what the peers received, the
// status snapshot and the call record.
#include <gtest/gtest.h>

#include "sip_fixture.h"

namespace b2bua::testing {
namespace {

class CallFlow : public ::testing::Test {
 protected:
  void start(const nlohmann::json& config) { plane_ = std::make_unique<PlaneUnderTest>(loop_, config); }

  // A phone of `extension`, registered.
  Phone& phone(const std::string& extension, const std::string& user_agent = "TestPhone/1.0") {
    phones_.push_back(std::make_unique<Phone>(loop_, extension, "pw" + extension, lan_port_, user_agent));
    Phone& p = *phones_.back();
    EXPECT_TRUE(p.register_now()) << p.trace();
    return p;
  }

  bool run_until(const std::function<bool()>& done, unsigned bound_ms = 3000) { return loop_.run_until(done, bound_ms); }

  // Everything every peer saw, for failure messages.
  std::string traces() const {
    std::string out;
    for (const auto& p : phones_) out += p->trace() + "\n";
    if (provider_) out += provider_->trace() + "\n";
    return out;
  }

  bool no_active_calls() const { return plane_->active_calls() == 0; }

  // The plane with the LAN config and trunk "provider" (route prefix "0"), registered at an
  // in-process provider.
  void start_with_registered_trunk() {
    provider_ = std::make_unique<Provider>(loop_, "4930123456", "trunk-secret");
    nlohmann::json config = lan_config(lan_port_);
    wan_port_ = free_port();
    with_trunk(config, wan_port_, provider_->port(), "4930123456", "trunk-secret");
    start(config);
    ASSERT_TRUE(run_until([&] { return plane_->trunk("provider")["state"] == "registered"; })) << traces();
  }

  // The plane with `config`, phones 10 and 11 registered, and 10's call to 11 ringing: a_, b_,
  // call_ (10's handle) and ringing_ (11's).
  void start_ringing(const nlohmann::json& config, const Phone::CallOptions& options = {}) {
    start(config);
    a_ = &phone("10");
    b_ = &phone("11");
    call_ = a_->call("11", options);
    ASSERT_TRUE(run_until([&] { return a_->count(nua_r_invite, call_, 180) > 0; })) << traces();
    ringing_ = b_->latest_incoming(nua_i_invite);
    ASSERT_NE(ringing_, nullptr);
  }

  // The one call record there should be (an empty one, after a failure, when there is none).
  storage::CallRecordRow only_record() {
    auto rows = plane_->records();
    EXPECT_EQ(rows.size(), 1u);
    return rows.empty() ? storage::CallRecordRow{} : rows.front();
  }

  // 11 answers; 10, which does not ACK by itself, hangs up the moment the 200 reaches it (its
  // BYE overtakes its ACK). Returns once both dialogs and the call are over.
  void hang_up_before_ack() {
    b_->answer(ringing_);
    ASSERT_TRUE(run_until([&] { return a_->count(nua_r_invite, call_, 200) > 0; })) << traces();
    a_->hang_up(call_);  // BYE; nua sends the ACK only after the BYE's answer
    ASSERT_TRUE(run_until([&] {
      return a_->final_status(nua_r_bye, call_) > 0 && b_->reached(ringing_, nua_callstate_terminated) &&
             no_active_calls();
    })) << traces();
  }

  // 11's 2xx was ACKed (its dialog confirmed) before the dialog was ended with BYE.
  ::testing::AssertionResult callee_acked_then_ended() const {
    const SipEvent* ack = b_->first(nua_i_ack, ringing_);
    const SipEvent* bye = b_->first(nua_i_bye, ringing_);
    if (!bye) return ::testing::AssertionFailure() << "the callee's dialog was never ended\n" << traces();
    if (!ack || ack->seq > bye->seq) {
      return ::testing::AssertionFailure() << "the callee's 2xx was not ACKed before the BYE\n" << traces();
    }
    return ::testing::AssertionSuccess();
  }

  // Declared first: everything below runs on it and goes before it.
  SipLoop loop_;
  const uint16_t lan_port_ = free_port();
  uint16_t wan_port_ = 0;  // start_with_registered_trunk()
  std::vector<std::unique_ptr<Phone>> phones_;
  Phone* a_ = nullptr;
  Phone* b_ = nullptr;
  nua_handle_t* call_ = nullptr;
  nua_handle_t* ringing_ = nullptr;
  std::unique_ptr<Provider> provider_;
  // Declared last, so it stops first, while the peers still answer its BYEs and un-REGISTERs.
  std::unique_ptr<PlaneUnderTest> plane_;
};

// 10 calls 11, 11 answers, 10 hangs up: both dialogs end and one record says 200.
TEST_F(CallFlow, InternalCallAnsweredAndHungUp) {
  ASSERT_NO_FATAL_FAILURE(start_ringing(lan_config(lan_port_)));
  EXPECT_EQ(plane_->status()["calls"][0]["state"], "ringing");
  b_->answer(ringing_);
  ASSERT_TRUE(run_until([&] { return a_->reached(call_, nua_callstate_ready) && b_->count(nua_i_ack, ringing_) > 0; }))
      << traces();
  EXPECT_EQ(plane_->status()["calls"][0]["state"], "answered");
  a_->hang_up(call_);
  ASSERT_TRUE(run_until([&] {
    return a_->final_status(nua_r_bye, call_) == 200 && b_->count(nua_i_bye, ringing_) > 0 && no_active_calls();
  })) << traces();

  auto row = only_record();
  EXPECT_EQ(row.direction, "internal");
  EXPECT_EQ(row.extension, "10");
  EXPECT_EQ(row.remote_number, "11");
  EXPECT_EQ(row.final_code, 200);
  EXPECT_EQ(row.hangup_by, "caller");
  EXPECT_GT(row.answer_ms, 0);
  EXPECT_GE(row.end_ms, row.answer_ms);
}

// The caller's CANCEL reaches us while the callee's 200 is already on its way: the caller gets
// 487 (its INVITE was cancelled), the callee's dialog exists and is ACKed, then ended with BYE
// (RFC 3261 9.1 and 15), and the record says 487 with nobody answered.
TEST_F(CallFlow, CancelCrossing200) {
  ASSERT_NO_FATAL_FAILURE(start_ringing(lan_config(lan_port_)));
  // Both leave before either reaches the plane: the CANCEL first, the 200 right behind it.
  a_->cancel(call_);
  b_->answer(ringing_);
  ASSERT_TRUE(run_until([&] {
    return a_->final_status(nua_r_invite, call_) != 0 && b_->reached(ringing_, nua_callstate_terminated) &&
           no_active_calls();
  })) << traces();

  EXPECT_EQ(a_->final_status(nua_r_invite, call_), 487) << traces();
  EXPECT_TRUE(callee_acked_then_ended());
  auto row = only_record();
  EXPECT_EQ(row.final_code, 487);
  EXPECT_EQ(row.hangup_by, "caller");
  EXPECT_EQ(row.answer_ms, 0);
}

// 10 hangs up before it ACKs 11's (relayed) 200: the plane ACKed 11's 2xx itself as soon as it
// came (the INVITE carried the offer), so 11 sees ACK then BYE, 10's BYE is answered 200 and
// the answered call is recorded once.
TEST_F(CallFlow, ByeBeforeAck) {
  Phone::CallOptions no_ack;
  no_ack.auto_ack = false;
  ASSERT_NO_FATAL_FAILURE(start_ringing(lan_config(lan_port_), no_ack));
  ASSERT_NO_FATAL_FAILURE(hang_up_before_ack());

  EXPECT_EQ(a_->final_status(nua_r_bye, call_), 200) << traces();
  EXPECT_TRUE(callee_acked_then_ended());
  auto row = only_record();
  EXPECT_EQ(row.final_code, 200);
  EXPECT_EQ(row.hangup_by, "caller");
}

// The same race with a delayed offer: 10 invites without SDP, 11's 200 carries the offer, so
// our ACK to 11 waits for 10's ACK with the answer, which does not come before 10's BYE. 11's
// 2xx must still be ACKed (RFC 3261 13.2.2.4: every 2xx is, with a valid answer, then BYE)
// before its dialog is ended; the answer declines the offered stream (port 0).
TEST_F(CallFlow, ByeBeforeAckOfDelayedOffer) {
  Phone::CallOptions delayed_offer_no_ack;
  delayed_offer_no_ack.offer = false;
  delayed_offer_no_ack.auto_ack = false;
  ASSERT_NO_FATAL_FAILURE(start_ringing(lan_config(lan_port_), delayed_offer_no_ack));
  ASSERT_TRUE(b_->first(nua_i_invite, ringing_)->sdp.empty()) << "the INVITE to 11 carries no offer either";
  ASSERT_NO_FATAL_FAILURE(hang_up_before_ack());

  ASSERT_FALSE(a_->first(nua_r_invite, call_, 200)->sdp.empty()) << "10 got 11's offer in the 200";
  EXPECT_TRUE(callee_acked_then_ended());
  const SipEvent* ack = b_->first(nua_i_ack, ringing_);
  ASSERT_NE(ack, nullptr);
  EXPECT_NE(ack->sdp.find("m=audio 0 "), std::string::npos) << "the ACK answers 11's offer, declining it\n"
                                                            << ack->sdp;
}

// calls.direct_media_internal: two phones that send from the address their Contact names (no
// NAT between them and us) talk directly: 11 gets 10's offer as 10 wrote it, and no relay
// session is asked for. Without the key the offer is rewritten for the relay (this plane has
// no relay, so the stream is declined).
TEST_F(CallFlow, DirectMediaInternalPassesTheOfferUnchanged) {
  nlohmann::json config = lan_config(lan_port_);
  config["calls"]["direct_media_internal"] = true;
  ASSERT_NO_FATAL_FAILURE(start_ringing(config));
  EXPECT_EQ(b_->first(nua_i_invite, ringing_)->sdp, a_->sdp()) << traces();
}

TEST_F(CallFlow, RelayedInternalCallRewritesTheOffer) {
  ASSERT_NO_FATAL_FAILURE(start_ringing(lan_config(lan_port_)));
  const std::string& offer = b_->first(nua_i_invite, ringing_)->sdp;
  EXPECT_EQ(offer.find("192.168.1.77"), std::string::npos) << offer;
  EXPECT_NE(offer.find("m=audio 0 "), std::string::npos) << offer;
}

// A dialled string that is no phone number never reaches routing: with a catch-all route to the
// provider ("0" prefix here), "0alice" and a 40-digit string would otherwise go out.
TEST_F(CallFlow, NonNumbersAreRefusedBeforeRouting) {
  ASSERT_NO_FATAL_FAILURE(start_with_registered_trunk());
  Phone& a = phone("10");
  for (const std::string& dialled : std::vector<std::string>{"0alice", "0" + std::string(40, '1')}) {
    nua_handle_t* nh = a.call(dialled);
    ASSERT_TRUE(run_until([&] { return a.final_status(nua_r_invite, nh) != 0; })) << traces();
    EXPECT_EQ(a.final_status(nua_r_invite, nh), 404) << dialled;
  }
  EXPECT_EQ(provider_->count(nua_i_invite), 0u) << traces();
}

// Extension 10 may hold one call: while its first call rings, its next INVITE is refused with
// 486 (12 is not even registered: without the limit that call would get 480). The refusal is a
// call record of its own; the first call goes on.
TEST_F(CallFlow, ExtensionLimitGives486) {
  nlohmann::json config = lan_config(lan_port_);
  config["extensions"][0]["max_calls"] = 1;
  ASSERT_NO_FATAL_FAILURE(start_ringing(config));
  nua_handle_t* second = a_->call("12");
  ASSERT_TRUE(run_until([&] { return a_->final_status(nua_r_invite, second) != 0; })) << traces();

  EXPECT_EQ(a_->final_status(nua_r_invite, second), 486) << traces();
  EXPECT_EQ(b_->count(nua_i_invite), 1u);
  EXPECT_EQ(plane_->active_calls(), 1u);
  EXPECT_EQ(a_->final_status(nua_r_invite, call_), 0) << "the first call still rings";
  auto row = only_record();
  EXPECT_EQ(row.final_code, 486);
  EXPECT_EQ(row.extension, "10");
  EXPECT_EQ(row.hangup_by, "system");
}

// 10 dials 00301234567: the call leaves through the trunk as 0301234567. The provider sees a
// dialog of ours (our Call-ID, the trunk account as From, our Contact and User-Agent), none of
// the phone's headers, addresses or identifiers.
TEST_F(CallFlow, OutboundThroughTrunkHidesThePhone) {
  ASSERT_NO_FATAL_FAILURE(start_with_registered_trunk());
  Phone& a = phone("10", "LeakyPhone/9.9");

  Phone::CallOptions revealing;
  revealing.headers = "X-Phone-Secret: internal-42";
  revealing.contact = "<sip:10@192.168.1.77:5062>";
  nua_handle_t* call = a.call("00301234567", revealing);
  ASSERT_TRUE(run_until([&] { return a.reached(call, nua_callstate_ready); })) << traces();
  const SipEvent* invite = provider_->first(nua_i_invite);
  ASSERT_NE(invite, nullptr);
  const SipEvent* ok = a.first(nua_r_invite, call, 200);
  ASSERT_NE(ok, nullptr);
  a.hang_up(call);
  ASSERT_TRUE(run_until([&] { return provider_->count(nua_i_bye) > 0 && no_active_calls(); })) << traces();

  const std::string& text = invite->text;
  const std::string phone_call_id = ok->call_id;
  ASSERT_FALSE(phone_call_id.empty());
  EXPECT_NE(invite->call_id, phone_call_id);
  EXPECT_EQ(text.rfind("INVITE sip:0301234567@provider.test", 0), 0u) << text;
  EXPECT_NE(text.find("\r\nFrom: <sip:4930123456@provider.test>;tag="), std::string::npos) << text;
  EXPECT_NE(text.find("\r\nUser-Agent: " + daemon::user_agent() + "\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\r\nContact: <sip:b2t"), std::string::npos) << text;
  EXPECT_NE(text.find("@127.0.0.1:" + std::to_string(wan_port_)), std::string::npos) << text;
  for (const std::string& secret : {phone_call_id, std::string("LeakyPhone"), std::string("X-Phone-Secret"),
                                    std::string("internal-42"), std::string("192.168.1.77"),
                                    std::string("phone10"), a.host_port()}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << "'" << secret << "' reached the provider:\n" << text;
  }

  auto row = only_record();
  EXPECT_EQ(row.direction, "outbound");
  EXPECT_EQ(row.extension, "10");
  EXPECT_EQ(row.trunk, "provider");
  EXPECT_EQ(row.remote_number, "0301234567");
  EXPECT_EQ(row.final_code, 200);
  EXPECT_EQ(row.hangup_by, "caller");
}

}  // namespace
}  // namespace b2bua::testing
