// Setting a call up: the INVITE of every B leg (RFC 3261 13.2.1), our own answer to a
// provider's digest challenge (RFC 3261 22.2/22.3, RFC 8760), the provisional responses that
// reach the caller (180 ringing, 183 with early media, RFC 3261 13.2.2.1) and the ring
// timeout with its fallback extension. The 2xx is call_accept.cpp's, a failure call_close.cpp's.
#include <string>

#include "b2bua/calls/call.h"
#include "b2bua/calls/call_manager.h"
#include "b2bua/common/log.h"
#include "b2bua/trunk/digest_client.h"

namespace b2bua::calls {

void Call::start(const sip::NuaEvent& invite) {
  a_offer_ = sdp_of(invite.sip);
  a_offered_ = !a_offer_.empty();
  started_ = true;
  if (machine_at_start_) {
    MachineStart start = std::move(*machine_at_start_);
    machine_at_start_.reset();
    if (!answer_by_machine(start.make, start.note, record.extension, start.refuse_code, start.refuse_phrase)) {
      if (start.refuse_code) {
        hang_up(start.refuse_code, start.refuse_phrase, "system");
      } else {
        hang_up(480, "Temporarily Unavailable", "system");
      }
    }
    return;
  }
  if (!invite_legs(0)) return;
  start_ring_timer();
  B2BUA_LOG(info, "calls", "call_started",
            {{"call", id}, {"direction", direction_name(direction())}, {"extension", record.extension},
             {"trunk", record.trunk}, {"remote", record.remote_number}, {"legs", b.size()},
             {"emergency", emergency ? "yes" : "no"}});
}

void Call::start_ring_timer() {
  if (ring_timeout_s <= 0) return;
  if (!ring_timer_) ring_timer_ = std::make_unique<sip::Timer>(manager.context().root);
  ring_timer_->start(static_cast<unsigned>(ring_timeout_s) * 1000, [this] { on_ring_timeout(); });
}

bool Call::invite_legs(size_t first) {
  for (size_t i = first; i < b.size(); ++i) {
    Leg& leg = *b[i];
    std::optional<std::string> offer;
    if (a_offered_) {
      offer = bridge_sdp(*a, leg, a_offer_, true);
      if (!offer) {
        hang_up(a->answered ? 0 : 488, "Not Acceptable Here", "system");
        return false;
      }
      leg.last_sdp = *offer;
    }
    send_invite(leg, offer);
  }
  return true;
}

void Call::send_invite(Leg& leg, const std::optional<std::string>& offer) {
  leg.invited = true;
  if (leg.trunk && !leg.transfer_target) watch_progress(leg);
  // Without an offer of ours (the caller's delayed offer), a reliable 18x could carry the far
  // side's offer, and its PRACK would owe the answer (RFC 3262 5) that only the caller can give,
  // and has not yet: 100rel is then not offered, so the offer comes in the 2xx, which the
  // caller's ACK answers.
  nua_invite(leg.nh, TAG_IF(!offer, SIPTAG_SUPPORTED_STR("timer")),
             TAG_IF(!leg.contact.empty(), SIPTAG_CONTACT_STR(leg.contact.c_str())),
             TAG_IF(!leg.proxy.empty(), NUTAG_PROXY(leg.proxy.c_str())),
             TAG_IF(!leg.headers.empty(), SIPTAG_HEADER_STR(leg.headers.c_str())),
             TAG_IF(offer, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
             TAG_IF(offer, SIPTAG_PAYLOAD_STR(offer ? offer->c_str() : "")), TAG_NEXT(leg.auth.tags()));
}

bool Call::answer_challenge(Leg& leg, int status, const sip::NuaEvent& ev) {
  const config::Trunk* t = leg.trunk;
  auto challenges = trunk::digest_challenges(ev.sip);
  if (!t || challenges.empty()) return false;
  leg.auth_tried = true;
  // The provider challenges our INVITE: answered with the trunk's credentials, never relayed
  // to the phone (RFC 3261 22.3).
  switch (leg.auth.answer(leg.nh, challenges, ev.sip, t->auth_user(), t->password, "INVITE", leg.request_uri)) {
    case trunk::ProviderAuth::Answered::no:
      // The call then fails with the provider's status; say why, as the trunk does for REGISTER.
      B2BUA_LOG(warn, "calls", "no_usable_challenge",
                {{"call", id}, {"trunk", record.trunk}, {"algorithm", challenges.front().algorithm}});
      return false;
    case trunk::ProviderAuth::Answered::by_sofia:
      return true;
    case trunk::ProviderAuth::Answered::by_us:
      break;
  }
  B2BUA_LOG(debug, "calls", "answering_challenge", {{"call", id}, {"status", status}, {"algorithm", leg.auth.algorithm()}});
  send_invite(leg, a_offered_ ? std::optional<std::string>(leg.last_sdp) : std::nullopt);
  return true;
}

void Call::on_b_response(Leg& leg, const sip::NuaEvent& ev) {
  int status = ev.status;
  progress_seen(leg, status);
  if (status < 200) return on_provisional(leg, ev);
  if ((status == 401 || status == 407) && leg.trunk && !leg.auth_tried && !ending_ &&
      answer_challenge(leg, status, ev)) {
    return;
  }
  if (status >= 300) {
    leg.final_status = status;
    // sofia keeps a challenged INVITE's handle "authenticating", never terminated: unanswered,
    // the leg is over for us, and no later event would say so.
    if (status == 401 || status == 407) leg.terminated = true;
    b_failed(leg, status, ev.phrase);
    return check_finished();
  }
  on_b_answered(leg, ev);
}

void Call::on_provisional(Leg& leg, const sip::NuaEvent& ev) {
  if (ev.status == 100 || ending_ || winner) return;
  std::string sdp = sdp_of(ev.sip);
  std::optional<std::string> early;
  if (!sdp.empty() && a_offered_) early = bridge_sdp(leg, *a, sdp, false);
  if (early) a->last_sdp = *early;
  // 180 and 183 (with the far side's early media) reach the caller.
  a->respond(ev.status, a->lasting(ev.phrase), early);
}

bool Call::invite_new_legs(size_t first) {
  if (!invite_legs(first)) return false;
  start_ring_timer();
  return true;
}

void Call::on_ring_timeout() {
  if (winner || ending_ || machine_) return;
  B2BUA_LOG(info, "calls", "no_answer", {{"call", id}, {"timeout_s", ring_timeout_s}});
  if (on_no_answer) {
    // Forward on no answer (CFNR): the phones stop ringing, the target rings instead.
    Forward forward = *on_no_answer;
    size_t first_new = b.size();
    for (auto& leg : b) end_leg(*leg, nullptr);
    if (manager.forward_after_ringing(*this, forward, "no_answer")) invite_new_legs(first_new);
    return;
  }
  if (fallback && !fallback_used_) {
    // routing.inbound[].fallback: the ring group gave up, the fallback extension rings next
    // (an answering machine, the phone in the hall) for another round of the same timeout.
    fallback_used_ = true;
    size_t first_new = b.size();
    for (auto& leg : b) end_leg(*leg, nullptr);
    if (manager.fork_to_phones(*this, {*fallback}, presented_number, presented_display)) {
      B2BUA_LOG(info, "calls", "fallback", {{"call", id}, {"extension", *fallback}, {"legs", b.size() - first_new}});
      if (invite_legs(first_new)) start_ring_timer();
      return;
    }
  }
  if (voicemail_box && to_voicemail(*voicemail_box, "no_answer")) return;
  hang_up(480, "Temporarily Unavailable", "system");
}

}  // namespace b2bua::calls
