// An INVITE with Replaces from a phone (RFC 3891). Phones send one to take over a dialog they
// know the identifiers of:
//   - an early dialog of ours with a ringing phone (pickup, with the dialog learnt from a busy
//     lamp): answered like the pickup codes (call_pickup.cpp), by any extension, as **EXT is;
//   - a confirmed dialog (moving a call to another phone of the same extension, or a phone's
//     own way of completing a transfer): the new phone's offer goes to the other party as a
//     re-INVITE, and when that is answered the new phone gets its 200 and the replaced phone a
//     BYE. Only a phone of the extension whose call it is may do that: a Replaces is no way into
//     someone else's conversation.
// RFC 3891 3's answers: 481 for a dialog that is not ours or is over, 486 while the call is busy
// with another change, 403 for another extension's call.
#include "b2bua/calls/call.h"
#include "b2bua/calls/call_manager.h"
#include "b2bua/common/log.h"

namespace b2bua::calls {

void CallManager::on_replaces(const sip::NuaEvent& ev, const config::Extension& caller) {
  Leg* old = Leg::by_replaces(context_.lan->nua(), ev.sip->sip_replaces);
  if (!old || old->terminated || !old->call || old->call->finished()) {
    return reject(ev, 481, "Call/Transaction Does Not Exist", "replaces: no such dialog");
  }
  Call& call = *old->call;
  const std::string& lan_ip = config_->lan.listen.front().host;
  if (!old->answered) {
    // Only an early dialog we opened (a phone being rung) can be answered in its place; the
    // early dialog of a phone calling us is that phone's (RFC 3891 3: 481).
    if (old == call.a.get() || !call.ringing_at(old->extension)) {
      return reject(ev, 481, "Call/Transaction Does Not Exist", "replaces: not a ringing call of ours");
    }
    if (call.pick_up(ev, caller.number, lan_ip)) return;
    return reject(ev, 488, "Not Acceptable Here", "call cannot be picked up (media)");
  }
  if (old->extension != caller.number) {
    return reject(ev, 403, "Forbidden", "replaces: another extension's call");
  }
  if (!call.replace(*old, ev, caller.number, lan_ip)) {
    return reject(ev, 486, "Busy Here", "replaces: call busy with another change");
  }
}

bool Call::replace(Leg& old, const sip::NuaEvent& invite, const std::string& extension, const std::string& lan_ip) {
  Leg* other = other_party(old);
  bool part_of_call = &old == a.get() || &old == winner;
  if (!part_of_call || !other || !other->answered || ending_ || reinvite_from_ || update_from_ || transfer_ ||
      direct_media) {
    return false;
  }
  b.push_back(std::make_unique<Leg>(*this, old.is_a, *manager.context().lan, invite.nh, lan_ip));
  Leg& phone = *b.back();
  phone.extension = extension;
  phone.invited = true;
  phone.replacing = &old;
  std::string sdp = sdp_of(invite.sip);
  auto remotes_before_offer = remotes_;
  std::optional<std::string> offer = sdp.empty() ? std::nullopt : bridge_sdp(phone, *other, sdp, true);
  if (!offer) {
    // No offer (a delayed offer would need the other party's offer in our 200), or an unusable one.
    phone.replacing = nullptr;
    phone.respond(488, "Not Acceptable Here");
    return true;
  }
  B2BUA_LOG(info, "calls", "replacing", {{"call", id}, {"ext", extension}});
  reinvite_from_ = &phone;
  remotes_before_reinvite_ = remotes_before_offer;
  other->last_sdp = *offer;
  nua_invite(other->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(offer->c_str()), TAG_END());
  return true;
}

void Call::replaced(Leg& phone) {
  Leg& old = *phone.replacing;
  phone.replacing = nullptr;
  phone.answered = true;
  take_place(old, phone);
  record.note("replaced", old.extension);
  B2BUA_LOG(info, "calls", "replaced", {{"call", id}, {"ext", phone.extension}});
  end_leg(old, nullptr);
}

}  // namespace b2bua::calls
