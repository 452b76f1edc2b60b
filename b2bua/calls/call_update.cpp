// UPDATE in an answered call (RFC 3311): without SDP (a session-timer refresh, RFC 4028) it is
// answered on its own leg and the other dialog is not disturbed; with an offer it is bridged to
// the other dialog as an UPDATE of ours, and the far side's answer comes back in our 200, so
// the SDP on both sides stays in step (nua alone would answer 200 without the answer the
// offer needs). One offer at a time per call: an UPDATE while a re-INVITE or another UPDATE is
// under way gets 491 (RFC 3311 5.2). An offer in an early dialog gets 488: the caller's
// offer/answer is still open there and an early change cannot be carried to the other side.
#include <utility>

#include "b2bua/calls/call.h"
#include "b2bua/calls/call_manager.h"
#include "b2bua/common/log.h"

namespace b2bua::calls {

void Call::on_update(Leg& from, const sip::NuaEvent& ev) {
  std::string sdp = sdp_of(ev.sip);
  if (sdp.empty()) {
    nua_respond(from.nh, SIP_200_OK, NUTAG_WITH_THIS(ev.nua), TAG_END());
    return;
  }
  Leg* to = other_party(from);
  bool part_of_call = &from == a.get() || &from == winner;
  if (!part_of_call || !to || !from.answered || !to->answered) {
    nua_respond(from.nh, 488, "Not Acceptable Here", NUTAG_WITH_THIS(ev.nua), TAG_END());
    return;
  }
  if (ending_ || reinvite_from_ || update_from_ || transfer_) {
    nua_respond(from.nh, 491, "Request Pending", NUTAG_WITH_THIS(ev.nua), TAG_END());
    return;
  }
  auto before = remotes_;
  auto offer = bridge_sdp(from, *to, sdp, true);
  if (!offer) {
    nua_respond(from.nh, 488, "Not Acceptable Here", NUTAG_WITH_THIS(ev.nua), TAG_END());
    return;
  }
  nua_save_event(ev.nua, update_saved_);
  update_from_ = &from;
  remotes_before_update_ = before;
  to->last_sdp = *offer;
  B2BUA_LOG(info, "calls", "update", {{"call", id}, {"from", from.is_a ? "a" : "b"}});
  nua_update(to->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(offer->c_str()), TAG_END());
}

void Call::on_update_response(Leg& answering, const sip::NuaEvent& ev) {
  if (ev.status < 200 || !update_from_ || update_from_ == &answering) return;
  Leg& from = *std::exchange(update_from_, nullptr);
  std::string sdp = sdp_of(ev.sip);
  std::optional<std::string> answer;
  if (ev.status < 300 && !sdp.empty()) answer = bridge_sdp(answering, from, sdp, false);
  if (answer) {
    from.last_sdp = *answer;
    nua_respond(from.nh, SIP_200_OK, NUTAG_WITH_SAVED(update_saved_), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(answer->c_str()), TAG_END());
  } else {
    // The far side refused (or answered without SDP): the media stays as it was on both sides.
    restore_remotes(remotes_before_update_);
    int status = ev.status < 300 ? 488 : ev.status == 491 ? 491 : ev.status >= 500 ? 500 : 488;
    nua_respond(from.nh, status, sip_status_phrase(status), NUTAG_WITH_SAVED(update_saved_), TAG_END());
  }
  nua_destroy_event(update_saved_);
}

}  // namespace b2bua::calls
