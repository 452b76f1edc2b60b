// Call flows through a running signalling plane, with in-process phones and provider
// (sip_fixture.h): each test is one flow or one race, asserted on what the peers received, the
// status snapshot and the call record.
#include <gtest/gtest.h>

#include "b2bua/status/metrics.h"
#include "b2bua/status/status_command.h"
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
  // in-process provider; `adjust` changes the config first.
  void start_with_registered_trunk(const std::function<void(nlohmann::json&)>& adjust = {}) {
    provider_ = std::make_unique<Provider>(loop_, "4930123456", "trunk-secret");
    nlohmann::json config = lan_config(lan_port_);
    wan_port_ = free_port();
    with_trunk(config, wan_port_, provider_->port(), "4930123456", "trunk-secret");
    if (adjust) adjust(config);
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

  // `phone` calls `number` and the call ends with a final answer; returns its status.
  int refused(Phone& phone, const std::string& number) {
    nua_handle_t* nh = phone.call(number);
    EXPECT_TRUE(run_until([&] { return phone.final_status(nua_r_invite, nh) != 0; })) << traces();
    return phone.final_status(nua_r_invite, nh);
  }

  // `phone` calls each of `numbers` in turn, each call ending with a final answer; returns those
  // answers, and what was logged meanwhile in `log`.
  std::vector<int> refusals(Phone& phone, const std::vector<std::string>& numbers, std::string& log) {
    std::vector<int> statuses;
    ::testing::internal::CaptureStderr();
    for (const auto& number : numbers) statuses.push_back(refused(phone, number));
    log = ::testing::internal::GetCapturedStderr();
    return statuses;
  }

  // `phone` calls `number`, the provider answers, `phone` hangs up; true when all went so.
  bool talked_and_hung_up(Phone& phone, const std::string& number) {
    nua_handle_t* nh = phone.call(number);
    if (!run_until([&] { return phone.reached(nh, nua_callstate_ready); })) return false;
    phone.hang_up(nh);
    return run_until([&] { return phone.final_status(nua_r_bye, nh) != 0 && no_active_calls(); });
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

// ---- What an extension may call (extensions[].allow, deny rules) and its limits on calls out.

// How many log lines of `event` the captured stderr holds.
size_t log_lines(const std::string& captured, const std::string& event) {
  size_t n = 0;
  for (size_t at = captured.find("event=" + event + " "); at != std::string::npos;
       at = captured.find("event=" + event + " ", at + 1)) {
    ++n;
  }
  return n;
}

// By default an extension calls neither abroad nor premium rate: 0 0044... and 0 0900... (the
// route strips the outside-line 0) get 403 with one warning each and a record each; the
// provider sees neither. A national number goes out.
TEST_F(CallFlow, DestinationOutsideTheAllowListIsRefused) {
  ASSERT_NO_FATAL_FAILURE(start_with_registered_trunk());
  Phone& a = phone("10");
  std::string log;
  EXPECT_EQ(refusals(a, {"000441234567", "009001234567"}, log), (std::vector<int>{403, 403}));
  EXPECT_EQ(provider_->count(nua_i_invite), 0u) << traces();
  EXPECT_EQ(log_lines(log, "destination_refused"), 2u) << log;
  EXPECT_NE(log.find("event=destination_refused call="), std::string::npos) << log;
  EXPECT_NE(log.find("ext=10 class=international number=00441234567"), std::string::npos) << log;
  EXPECT_NE(log.find("ext=10 class=premium number=09001234567"), std::string::npos) << log;
  auto rows = plane_->records();
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    EXPECT_EQ(row.final_code, 403);
    EXPECT_EQ(row.extension, "10");
    EXPECT_EQ(row.hangup_by, "system");
    EXPECT_NE(row.call_id.find("-r"), std::string::npos) << row.call_id;
  }
  EXPECT_EQ(rows[0].remote_number, "00441234567");
  EXPECT_TRUE(talked_and_hung_up(a, "0301234567")) << traces();
  EXPECT_EQ(provider_->count(nua_i_invite), 1u);
}

// An allow list is the whole list: 11 may call abroad, 10 not even 11.
TEST_F(CallFlow, AllowListIsTheExtensionsOwn) {
  ASSERT_NO_FATAL_FAILURE(start_with_registered_trunk([](nlohmann::json& c) {
    c["extensions"][0]["allow"] = {"national"};
    c["extensions"][1]["allow"] = {"national", "international"};
  }));
  Phone& ten = phone("10");
  Phone& eleven = phone("11");
  EXPECT_EQ(refused(ten, "11"), 403);
  EXPECT_EQ(eleven.count(nua_i_invite), 0u);
  EXPECT_TRUE(talked_and_hung_up(eleven, "000441234567")) << traces();
  EXPECT_EQ(provider_->count(nua_i_invite), 1u);
}

// "trunk": null refuses what its prefix matches even where the class is allowed, and a
// catch-all deny refuses the rest instead of sending it to a provider.
TEST_F(CallFlow, DenyRuleRefuses) {
  ASSERT_NO_FATAL_FAILURE(start_with_registered_trunk([](nlohmann::json& c) {
    c["extensions"][0]["allow"] = {"national", "premium"};
    c["routing"]["outbound"] = {{{"prefix", "0118"}, {"trunk", nullptr}},
                                {{"prefix", "0"}, {"trunk", "provider"}, {"strip", 1}},
                                {{"prefix", ""}, {"trunk", nullptr}}};
  }));
  Phone& a = phone("10");
  EXPECT_EQ(refused(a, "011833"), 403);
  EXPECT_EQ(refused(a, "5551234"), 403);
  EXPECT_EQ(provider_->count(nua_i_invite), 0u) << traces();
  EXPECT_TRUE(talked_and_hung_up(a, "009001234567")) << traces();  // premium, allowed, routed
}

// Two calls out are the hour's limit: the third is refused and blocks the extension, which a
// single warning reports; the fourth is refused without one. The block shows in the status and
// the metrics, an emergency call still goes out, and a reload lifts it.
TEST_F(CallFlow, CallsPerHourBlocksWithOneWarning) {
  ASSERT_NO_FATAL_FAILURE(start_with_registered_trunk([](nlohmann::json& c) {
    c["limits"] = {{"calls_per_hour", 2}};
    c["routing"]["emergency"] = {"112"};
    c["routing"]["outbound"].insert(c["routing"]["outbound"].begin(),
                                    nlohmann::json::object({{"prefix", "112"}, {"trunk", "provider"}}));
  }));
  Phone& a = phone("10");
  ASSERT_TRUE(talked_and_hung_up(a, "0301234567")) << traces();
  ASSERT_TRUE(talked_and_hung_up(a, "0301234568")) << traces();
  std::string log;
  EXPECT_EQ(refusals(a, {"0301234569", "0301234560"}, log), (std::vector<int>{403, 403}));
  EXPECT_EQ(log_lines(log, "extension_limit_reached"), 1u) << log;
  EXPECT_NE(log.find("ext=10 limit=calls_per_hour value=2"), std::string::npos) << log;
  EXPECT_EQ(provider_->count(nua_i_invite), 2u);

  auto limits = plane_->status()["extensions"][0]["limits"];
  EXPECT_EQ(limits["blocked"], true) << limits;
  EXPECT_EQ(limits["blocked_by"], "calls_per_hour");
  EXPECT_GT(limits["blocked_until"].get<int64_t>(), 0);
  EXPECT_EQ(limits["hits"]["calls_per_hour"], 1);
  std::string metrics = status::render_metrics(plane_->status());
  EXPECT_NE(metrics.find("b2bua_extension_limit_hits_total{extension=\"10\",limit=\"calls_per_hour\"} 1"),
            std::string::npos) << metrics;
  std::string table = status::render_status_text(plane_->status(), 0);
  EXPECT_NE(table.find("calls_per_hour"), std::string::npos) << table;

  EXPECT_TRUE(talked_and_hung_up(a, "112")) << traces();  // never blocked
  EXPECT_EQ(provider_->count(nua_i_invite), 3u);

  plane_->plane().apply_config(std::make_shared<config::Config>(plane_->config()));
  EXPECT_EQ(plane_->status()["extensions"][0]["limits"]["blocked"], false);
  EXPECT_TRUE(talked_and_hung_up(a, "0301234561")) << traces();
  EXPECT_EQ(plane_->status()["extensions"][0]["limits"]["hits"]["calls_per_hour"], 1);
}

// One call out at a time (max_calls allows more): the second, while the first rings, crosses
// the limit and blocks; the third is refused too, and only one warning says so.
TEST_F(CallFlow, ConcurrentExternalBlocksWithOneWarning) {
  ASSERT_NO_FATAL_FAILURE(start_with_registered_trunk([](nlohmann::json& c) {
    c["extensions"][0]["max_calls"] = 5;
    c["extensions"][0]["limits"] = {{"concurrent_external", 1}};
  }));
  provider_->answer_invites = false;
  Phone& a = phone("10");
  nua_handle_t* first = a.call("0301234567");
  ASSERT_TRUE(run_until([&] { return provider_->count(nua_i_invite) == 1; })) << traces();
  std::string log;
  EXPECT_EQ(refusals(a, {"0301234568", "0301234569"}, log), (std::vector<int>{403, 403}));
  EXPECT_EQ(log_lines(log, "extension_limit_reached"), 1u) << log;
  EXPECT_NE(log.find("limit=concurrent_external value=1"), std::string::npos) << log;
  EXPECT_EQ(provider_->count(nua_i_invite), 1u);
  EXPECT_EQ(plane_->status()["extensions"][0]["limits"]["blocked_by"], "concurrent_external");
  a.cancel(first);
  ASSERT_TRUE(run_until([&] { return no_active_calls(); })) << traces();
}

// An answered call out longer than max_duration_s is ended by us: BYE to both sides, a warning,
// and a record that says the system hung up. An emergency call is never cut.
TEST_F(CallFlow, MaxDurationHangsUpBothLegsButNeverAnEmergencyCall) {
  ASSERT_NO_FATAL_FAILURE(start_with_registered_trunk([](nlohmann::json& c) {
    c["extensions"][0]["limits"] = {{"max_duration_s", 1}};
    c["routing"]["emergency"] = {"112"};
    c["routing"]["outbound"].push_back({{"prefix", "112"}, {"trunk", "provider"}});
  }));
  Phone& a = phone("10");
  nua_handle_t* call = a.call("0301234567");
  ASSERT_TRUE(run_until([&] { return a.reached(call, nua_callstate_ready); })) << traces();
  int64_t answered = steady_ms();
  ::testing::internal::CaptureStderr();
  bool ended = run_until([&] { return a.count(nua_i_bye, call) > 0 && provider_->count(nua_i_bye) > 0 &&
                                      no_active_calls(); }, 4000);
  std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(ended) << traces();
  EXPECT_GE(steady_ms() - answered, 900);
  EXPECT_EQ(log_lines(log, "max_duration_reached"), 1u) << log;
  auto row = only_record();
  EXPECT_EQ(row.final_code, 200);
  EXPECT_EQ(row.hangup_by, "system");
  EXPECT_GT(row.answer_ms, 0);

  nua_handle_t* emergency = a.call("112");
  ASSERT_TRUE(run_until([&] { return a.reached(emergency, nua_callstate_ready); })) << traces();
  loop_.run_for(1500);
  EXPECT_EQ(a.count(nua_i_bye, emergency), 0u) << traces();
  EXPECT_EQ(plane_->active_calls(), 1u);
  a.hang_up(emergency);
  ASSERT_TRUE(run_until([&] { return no_active_calls(); })) << traces();
}

}  // namespace
}  // namespace b2bua::testing
