// Accepting a call: the first 2xx from a B leg wins (RFC 3261 16.7: the other forks are
// cancelled with Reason "Call completed elsewhere", RFC 3326), the caller gets our 2xx with the
// bridged SDP, and every 2xx we receive is ACKed by us (NUTAG_AUTOACK(0)). With a delayed offer
// (RFC 3264 5, no SDP in the caller's INVITE) the callee's 2xx carries the offer and our ACK
// to it waits for the answer in the caller's ACK.
#include <utility>

#include "b2bua/calls/call.h"
#include "b2bua/calls/call_manager.h"
#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"

namespace b2bua::calls {
void Call::on_b_answered(Leg& leg, const sip::NuaEvent& ev) {
  leg.answered = true;
  if (winner && winner != &leg) return;  // a second answer: ack_2xx ACKs and BYEs it
  if (ending_) return;                   // CANCEL crossed the 2xx: ack_2xx ACKs and BYEs it
  winner = &leg;
  record.answer_ms = clock::unix_ms();
  if (ring_timer_) ring_timer_->cancel();
  for (auto& other : b) {
    if (other.get() != &leg) end_leg(*other, kCompletedElsewhere);
  }
  if (direction() == Direction::inbound && !leg.extension.empty()) record.extension = leg.extension;
  answer_a(200, "OK", ev.sip, leg);
  if (a->answered && max_duration_s > 0) {
    // Talk time, as the provider bills it.
    duration_limit_ = std::make_unique<sip::Timer>(manager.context().root);
    duration_limit_->start(static_cast<unsigned>(max_duration_s) * 1000, [this] { on_max_duration(); });
  }
}

void Call::answer_a(int status, const char* phrase, const sip_t* sip_with_sdp, Leg& from) {
  std::string sdp = sdp_of(sip_with_sdp);
  std::optional<std::string> bridged;
  if (!sdp.empty()) {
    // With an offer from A this is the answer; without one (delayed offer) B's 2xx is the offer.
    bridged = bridge_sdp(from, *a, sdp, !a_offered_);
    if (!a_offered_) {
      b_ack_waits_for_a_ = true;
      b_offer_ = sdp;
    }
  }
  if (!bridged && (a_offered_ || !sdp.empty())) {
    B2BUA_LOG(warn, "calls", "answer_unusable", {{"call", id}});
    b_ack_waits_for_a_ = false;
    ending("system");
    record.final_code = 488;
    a->respond(488, "Not Acceptable Here");
    return;  // ack_2xx ACKs and BYEs B
  }
  a->answered = true;
  record.final_code = status;
  if (bridged) a->last_sdp = *bridged;
  a->respond(status, phrase, bridged);
  B2BUA_LOG(info, "calls", "answered",
            {{"call", id}, {"extension", record.extension}, {"trunk", record.trunk},
             {"media", direct_media ? "direct" : "relay"}});
}

void Call::on_a_ack(const sip::NuaEvent& ev) {
  if (!b_ack_waits_for_a_ || !winner) return;
  // Delayed offer: A's ACK carries the answer to the offer B's 2xx made.
  b_ack_waits_for_a_ = false;
  std::string sdp = sdp_of(ev.sip);
  std::optional<std::string> answer;
  if (!sdp.empty()) answer = bridge_sdp(*a, *winner, sdp, false);
  winner->ack(answer);
  if (!answer) hang_up(0, nullptr, "system");
}

void Call::ack_waiting_winner() {
  if (!b_ack_waits_for_a_ || !winner) return;
  b_ack_waits_for_a_ = false;
  // RFC 3261 13.2.2.4: the ACK to a 2xx that carried an offer carries the answer; the call is
  // ending, so the answer declines every stream (RFC 3264 6: port 0).
  winner->ack(declining_answer(*winner, b_offer_));
}

void Call::ack_2xx(Leg& leg) {
  // A 2xx to an INVITE we sent on this leg.
  if (!leg.is_a && &leg == winner && b_ack_waits_for_a_) return;  // waits for A's answer
  bool with_sdp = std::exchange(leg.ack_with_sdp, false) && !leg.last_sdp.empty();
  leg.ack(with_sdp ? std::optional<std::string>(leg.last_sdp) : std::nullopt);
  // CANCEL crossed the 2xx, or a second phone answered a fork: the dialog exists, end it
  // (RFC 3261 15: a 2xx is ACKed, then the dialog ended with BYE).
  if (leg.transfer_target) {
    // A second fork of a transfer target answered, or the transfer ended meanwhile.
    if (!transfer_ || transfer_->answered_by != &leg || ending_) nua_bye(leg.nh, TAG_END());
    return;
  }
  if (&leg != a.get() && (ending_ || (winner && winner != &leg))) nua_bye(leg.nh, TAG_END());
}

}  // namespace b2bua::calls
