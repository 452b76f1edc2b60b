// Ending a call, however it ends: the caller's CANCEL (nua answers it 200 and the INVITE 487,
// RFC 3261 9.2), a BYE from either side (RFC 3261 15), every B leg failing (the caller then
// hears one final answer, mapped from RFC 3261 21.4-21.6 to codes a phone handles well), a
// hang-up of ours (shutdown, ring timeout, unusable SDP, extensions[].limits.max_duration_s),
// and the relay's media timeout.
// Unanswered B legs are cancelled, answered ones get BYE; the call is over when every dialog is
// (call.cpp, check_finished).
#include "b2bua/calls/call.h"
#include "b2bua/calls/call_machine.h"
#include "b2bua/calls/call_manager.h"
#include "b2bua/common/log.h"

namespace b2bua::calls {
namespace {

// What the caller hears when the provider refuses a call: a code phones handle well that keeps
// the provider's meaning (busy stays busy, not found stays not found).
int map_failure(int status) {
  switch (status) {
    case 401: case 407: return 503;  // the provider refused our trunk credentials: not the callee's answer
    case 408: return 480;            // the far end did not answer in time
    case 484: case 604: return 404;  // an incomplete or nonexistent number: not found
    case 600: return 486;            // busy everywhere: busy
    case 606: return 488;            // acceptable nowhere: not acceptable here
    default: break;
  }
  if (status >= 600) return 603;     // any other global refusal (603, 607, 608): declined
  if (status >= 500) return 503;     // the provider's server failed: the service, not the callee
  if (status >= 400) return status;  // other client failures keep their meaning (403, 480, 486, 488, ...)
  return 480;                        // 3xx: we follow no redirection
}

}  // namespace

void Call::ending(const char* by) {
  if (ending_) return;
  ending_ = true;
  record.hangup_by = by;
}

void Call::on_cancel() {
  B2BUA_LOG(info, "calls", "cancelled", {{"call", id}, {"by", "caller"}});
  ending("caller");
  record.final_code = 487;
  for (auto& leg : b) end_leg(*leg, nullptr);
}

void Call::on_bye(Leg& leg) {
  if (transferor_left(leg)) return;
  // Only the two dialogs that make the call end it: a fork that lost, or a transferor whose
  // place the target took (its BYE often crosses ours), ends alone.
  if (&leg != a.get() && &leg != winner) return;
  const char* by = &leg == a.get() ? "caller" : "callee";
  B2BUA_LOG(debug, "calls", "hangup", {{"call", id}, {"by", by}});  // call_ended says it at info
  ending(by);
  for (auto& target : b) {
    if (target->transfer_target) end_leg(*target, nullptr);  // nobody left to transfer to them
  }
  Leg* other = other_party(leg);
  if (other) end_leg(*other, nullptr);
}

void Call::b_failed(Leg& leg, int status, const char* phrase) {
  B2BUA_LOG(info, "calls", "leg_failed", {{"call", id}, {"status", status}, {"phrase", phrase}, {"extension", leg.extension}});
  if (ending_ || winner || machine_) return;
  if (fail_over(leg, status)) return;
  bool any_busy = false;
  for (auto& other : b) {
    if (other->final_status == 0 && !other->cancelled) return;  // others may still answer
    any_busy = any_busy || other->final_status == 486 || other->final_status == 600;
  }
  if (any_busy && on_busy && !leg.trunk) {
    // Every phone rung is over and one said busy (the user rejected the call): forward on busy.
    Forward forward = *on_busy;
    size_t first_new = b.size();
    if (manager.forward_after_ringing(*this, forward, "busy")) invite_new_legs(first_new);
    return;
  }
  if (any_busy && voicemail_box && !leg.trunk && to_voicemail(*voicemail_box, "busy")) return;
  // A trunk's answer is mapped; phones rung in parallel are summed up: busy if one was.
  int code = leg.trunk ? map_failure(status) : any_busy ? 486 : 480;
  // The far side's reason phrase where the code is its own, the standard one where we mapped it.
  const char* text = code == status ? phrase : sip_status_phrase(code);
  // b2bua's own verdict on a phone's call is heard: every phone busy, or no trunk left to try.
  if ((code == 486 && !leg.trunk && refuse_with_tone(486, "Busy Here", media::Tone::busy)) ||
      (code == 503 && leg.trunk && refuse_with_tone(503, "Service Unavailable", media::Tone::congestion))) {
    return;
  }
  ending("callee");
  record.final_code = code;
  a->respond(code, a->lasting(text));
}

void Call::end_leg(Leg& leg, const char* reason) {
  if (leg.terminated) return;
  // An answered dialog gets BYE whichever side opened it (a transfer can move the caller's
  // leg among the B legs).
  if (leg.answered) {
    // A BYE must not overtake the ACK (RFC 3261 15: the caller ACKs a 2xx, then BYEs); sofia's
    // nua_bye() does not send a pending ACK first.
    if (&leg == winner) ack_waiting_winner();
    nua_bye(leg.nh, TAG_END());
    return;
  }
  if (leg.replacing) {
    // A phone's INVITE with Replaces still waiting for the other party: the call ends first.
    leg.replacing = nullptr;
    leg.respond(SIP_487_REQUEST_TERMINATED);
    return;
  }
  const bool ours = &leg != a.get();  // we sent its INVITE (a transfer target may face side A)
  // A leg whose INVITE never went out (the caller's offer was refused first) has no dialog for
  // the stack to end or report on: it is over now, or the call would wait for the end bound.
  if (ours && !leg.invited) {
    leg.terminated = true;
    return;
  }
  if (ours && !leg.cancelled && leg.final_status == 0) {
    // An unanswered leg is cancelled; nua_bye() on an early dialog does nothing (900).
    leg.cancelled = true;
    nua_cancel(leg.nh, TAG_IF(reason, SIPTAG_REASON_STR(reason)), TAG_END());
  }
}

void Call::hang_up(int code, const char* phrase, const char* by) {
  ending(by);
  if (!a->answered && !a->terminated && code >= 300) {
    record.final_code = code;
    a->respond(code, phrase);
  } else {
    end_leg(*a, nullptr);
  }
  for (auto& leg : b) end_leg(*leg, nullptr);
  if (!end_bound_) {
    // Dialogs normally end within a transaction timeout (64*T1, RFC 3261 17.1.1.2); a peer that
    // never answers our BYE must not keep the call (and its relay ports) forever.
    end_bound_ = std::make_unique<sip::Timer>(manager.context().root);
    end_bound_->start(40000, [this] { give_up("end_bound"); });
  }
  check_finished();
}

void Call::give_up(const char* why) {
  if (finished_) return;
  B2BUA_LOG(warn, "calls", "forced_end", {{"call", id}, {"why", why}});
  a->abandon();
  for (auto& leg : b) leg->abandon();
  machine_.reset();  // a recording the relay never returned is given up
  check_finished();
}

void Call::on_max_duration() {
  B2BUA_LOG(warn, "calls", "max_duration_reached",
            {{"call", id}, {"ext", record.extension}, {"trunk", record.trunk}, {"number", record.remote_number},
             {"max_duration_s", max_duration_s}});
  hang_up(0, nullptr, "system");
}

void Call::on_media_timeout() {
  B2BUA_LOG(info, "calls", "media_timeout", {{"call", id}});
  hang_up(408, "Request Timeout", "system");
}

}  // namespace b2bua::calls
