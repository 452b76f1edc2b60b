// Modifying an answered call: a re-INVITE from either side (hold, resume, codec change) is
// bridged to the other dialog as a new offer (RFC 3264 8), one at a time (RFC 3261 14.1:
// 491 on glare); a refresh without an offer (RFC 4028 session timer) is answered on its own
// leg with the SDP we sent last; a failed re-INVITE leaves the media as it was (RFC 3261 14.2).
#include <utility>

#include "b2bua/calls/call.h"
#include "b2bua/calls/call_manager.h"
#include "b2bua/common/log.h"

namespace b2bua::calls {

void Call::on_reinvite(Leg& from, const sip::NuaEvent& ev) {
  Leg* to = other_party(from);
  // Only the two dialogs that make the call modify it; a fork that lost is being ended.
  bool part_of_call = &from == a.get() || &from == winner;
  // RFC 3261 14.1: one re-INVITE at a time (glare); the other side retries after a random wait.
  if (!part_of_call || !to || !to->answered || !from.answered || ending_ || reinvite_from_) {
    from.respond(491, "Request Pending");
    return;
  }
  std::string sdp = sdp_of(ev.sip);
  if (sdp.empty()) {
    // A refresh without an offer (e.g. a session timer): answered locally with what we sent
    // last, the other dialog is not disturbed.
    from.respond(SIP_200_OK, from.last_sdp.empty() ? std::nullopt : std::optional<std::string>(from.last_sdp));
    return;
  }
  auto remotes_before_offer = remotes_;
  auto offer = bridge_sdp(from, *to, sdp, true);
  if (!offer) {
    from.respond(488, "Not Acceptable Here");
    return;
  }
  reinvite_from_ = &from;
  remotes_before_reinvite_ = remotes_before_offer;
  to->last_sdp = *offer;
  B2BUA_LOG(info, "calls", "reinvite", {{"call", id}, {"from", from.is_a ? "a" : "b"}});
  nua_invite(to->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(offer->c_str()), TAG_END());
}

void Call::complete_reinvite(Leg& from, Leg& answering, const sip::NuaEvent& ev) {
  reinvite_from_ = nullptr;
  std::string sdp = sdp_of(ev.sip);
  if (std::exchange(attended_reinvite_, false)) {
    // The consulted party moved here answered our offer: the held party gets that answer as
    // its offer. A refusal leaves nobody to talk to: the call ends.
    std::optional<std::string> offer;
    if (ev.status < 300 && !sdp.empty()) offer = bridge_sdp(answering, from, sdp, true);
    if (!offer) return hang_up(0, nullptr, "system");
    from.last_sdp = *offer;
    transfer_reinvite_ = true;
    reinvite_from_ = &answering;
    nua_invite(from.nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(offer->c_str()), TAG_END());
    return;
  }
  if (std::exchange(transfer_reinvite_, false)) {
    // Our own re-INVITE after a transfer: the other party's answer only updates the relay
    // (the target already has its answer); a refusal leaves the media as the target set it,
    // unless the other party's relay ports moved (an outside target): it would go on sending
    // into released ones, and a call nobody hears is worse than an ended one.
    if (ev.status < 300 && !sdp.empty()) bridge_sdp(answering, from, sdp, false);
    if (std::exchange(ports_moved_, false) && ev.status >= 300) {
      B2BUA_LOG(warn, "calls", "moved_reinvite_refused", {{"call", id}, {"status", ev.status}});
      hang_up(0, nullptr, "system");
    }
    return;
  }
  std::optional<std::string> answer;
  if (ev.status < 300 && !sdp.empty()) answer = bridge_sdp(answering, from, sdp, false);
  if (answer) {
    from.last_sdp = *answer;
    from.respond(SIP_200_OK, answer);
    if (from.replacing) replaced(from);
    return;
  }
  // RFC 3261 14.2: a failed re-INVITE leaves the session as it was, on both sides; the
  // requester hears the far side's own answer, and the relay goes back to the old addresses.
  restore_remotes(remotes_before_reinvite_);
  if (ev.status < 300) {
    from.respond(488, "Not Acceptable Here");
  } else {
    from.respond(ev.status, from.lasting(ev.phrase));
  }
  from.replacing = nullptr;  // a phone's INVITE with Replaces: refused, the call stays as it was
}

void Call::on_refresh_answered(Leg& leg, const sip::NuaEvent& ev) {
  // A re-INVITE nua sent by itself (a session-timer refresh, RFC 4028) goes out without SDP
  // since media is ours; the peer's 2xx then carries an offer that the ACK must answer
  // (RFC 3264 5), with the SDP this leg already has.
  leg.ack_with_sdp = !sdp_of(ev.sip).empty();
}

void Call::restore_remotes(const Remotes& before) {
  media::MediaPlane* relay = manager.context().media;
  for (size_t i = 0; i < before.size() && i < streams.size(); ++i) {
    if (!streams[i] || !relay) continue;
    for (size_t side = 0; side < 2; ++side) {
      if (before[i][side]) relay->set_remote(streams[i]->id, static_cast<int>(side), *before[i][side]);
    }
  }
  remotes_ = before;
}

}  // namespace b2bua::calls
