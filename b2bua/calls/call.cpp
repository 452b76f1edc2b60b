// A call's lifetime: its legs' nua handles, the dispatch of every leg event to the operation
// that handles it (the other call_*.cpp files), the dialog state each leg reports, and the end
// of the call once every dialog is over (RFC 3261 12: a dialog ends with its BYE transaction,
// or with a failure of its INVITE).
#include "b2bua/calls/call.h"

#include <utility>

#include "b2bua/calls/call_machine.h"
#include "b2bua/calls/call_manager.h"
#include "b2bua/common/clock.h"

namespace b2bua::calls {

const char* direction_name(Direction d) {
  switch (d) {
    case Direction::outbound: return "outbound";
    case Direction::inbound: return "inbound";
    case Direction::internal: return "internal";
  }
  return "unknown";
}

Leg::Leg(Call& c, bool a, sip::SipAgent& ag, nua_handle_t* handle, std::string address)
    : call(&c), is_a(a), agent(ag), nh(handle), sdp_address(std::move(address)) {
  nua_handle_bind(nh, this);
  // Session timers stay per leg (never relayed); where we may choose, the peer refreshes, so a
  // dead peer is noticed by nua (BYE on expiry, RFC 4028 10) without us sending SDP-less
  // refreshes.
  // Blind transfer (call_transfer.cpp) is offered to the phones' dialogs only: REFER is ours to
  // answer there, so a transfer we cannot carry out gets a real error, not nua's automatic 202.
  // Outside a dialog, and from providers, REFER stays out of Allow (405): nua would NOTIFY
  // whatever Contact an out-of-dialog REFER names, even after refusing it.
  bool phone_side = &agent == c.manager.context().lan;
  nua_set_hparams(nh, NUTAG_SESSION_REFRESHER(nua_remote_refresher), TAG_IF(phone_side, NUTAG_ALLOW("REFER")),
                  TAG_IF(phone_side, NUTAG_APPL_METHOD("REFER")), TAG_END());
}

Leg* Leg::by_replaces(nua_t* nua, const sip_replaces_t* replaces) {
  nua_handle_t* found = replaces ? nua_handle_by_replaces(nua, replaces) : nullptr;  // referenced
  if (!found) return nullptr;
  Leg* leg = dynamic_cast<Leg*>(static_cast<sip::HandleOwner*>(nua_handle_magic(found)));
  nua_handle_unref(found);
  return leg;
}

Leg::~Leg() { release_handle(); }

void Leg::release_handle() {
  if (nh) {
    nua_handle_bind(nh, nullptr);
    nua_handle_destroy(nh);
    nh = nullptr;
  }
}

void Leg::abandon() {
  if (terminated) return;
  release_handle();
  terminated = true;
}

void Leg::on_nua_event(const sip::NuaEvent& ev) { call->on_event(*this, ev); }

void Leg::respond(int status, const char* phrase, const std::optional<std::string>& sdp) {
  bool with_contact = status < 300 && !contact.empty();
  nua_respond(nh, status, phrase, TAG_IF(with_contact, SIPTAG_CONTACT_STR(contact.c_str())),
              TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
              TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp ? sdp->c_str() : "")), TAG_END());
}

void Leg::ack(const std::optional<std::string>& sdp) {
  nua_ack(nh, TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
          TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp ? sdp->c_str() : "")), TAG_END());
}

const char* Leg::lasting(const char* phrase) const {
  return phrase ? su_strdup(nua_handle_home(nh), phrase) : nullptr;
}

Call::Call(CallManager& m, uint64_t call_id, Direction dir, config::Snapshot cfg)
    : manager(m), id(call_id), config(std::move(cfg)) {
  record.direction = dir;
  record.start_ms = clock::unix_ms();
}

Call::~Call() {
  if (update_from_) nua_destroy_event(update_saved_);
  // Legs first: their handles must not outlive the relay sessions' owner.
  b.clear();
  a.reset();
}

void Call::on_event(Leg& leg, const sip::NuaEvent& ev) {
  switch (ev.event) {
    case nua_i_state: return on_state(leg, ev);
    case nua_r_invite: return on_invite_response(leg, ev);
    case nua_i_invite: return on_reinvite(leg, ev);  // new INVITEs go to admission, not here
    case nua_i_ack:
      if (&leg == a.get()) on_a_ack(ev);
      return;
    case nua_i_info: return relay_info(leg, ev);
    case nua_i_cancel:
      if (&leg == a.get()) on_cancel();
      return;
    case nua_i_bye: return on_bye(leg);
    case nua_i_refer: return on_refer(leg, ev);
    case nua_i_update: return on_update(leg, ev);
    case nua_r_update: return on_update_response(leg, ev);
    default: return;
  }
}

void Call::on_invite_response(Leg& leg, const sip::NuaEvent& ev) {
  if (leg.transfer_target) return on_transfer_response(leg, ev);
  if (reinvite_from_ && reinvite_from_ != &leg && (&leg == a.get() || &leg == winner)) {
    // The answer to a re-INVITE we bridged from the other side.
    if (ev.status >= 200) complete_reinvite(*reinvite_from_, leg, ev);
    return;
  }
  // Any other 2xx on an answered dialog answers a re-INVITE nua sent by itself.
  if (leg.answered && ev.status >= 200 && ev.status < 300) return on_refresh_answered(leg, ev);
  if (&leg != a.get()) on_b_response(leg, ev);
}

void Call::on_state(Leg& leg, const sip::NuaEvent& ev) {
  int state = leg.state;
  tl_gets(ev.tags, NUTAG_CALLSTATE_REF(state), TAG_END());
  leg.state = state;
  if (state == nua_callstate_completing) {
    ack_2xx(leg);
  } else if (state == nua_callstate_terminated) {
    leg.terminated = true;
    if (transferor_left(leg)) return check_finished();
    // The far side of a dialog that ended by itself (a failure, a timeout) is ended too.
    if (&leg == a.get() && !ending_) {
      ending("caller");
      for (auto& other : b) end_leg(*other, nullptr);
    } else if (&leg == winner && !ending_) {
      ending("callee");
      end_leg(*a, nullptr);
    }
    check_finished();
  }
}

void Call::check_finished() {
  if (finished_ || !a->terminated) return;
  for (auto& leg : b) {
    if (!leg->terminated) return;
  }
  if (machine_busy()) return;  // it calls back when the message is stored
  finished_ = true;
  if (transfer_) release_sessions(transfer_->sessions);  // an outside target that never answered
  if (progress_timer_) progress_timer_->cancel();
  if (ring_timer_) ring_timer_->cancel();
  if (end_bound_) end_bound_->cancel();
  if (duration_limit_) duration_limit_->cancel();
  record.end_ms = clock::unix_ms();
  manager.call_finished(*this);
}

}  // namespace b2bua::calls
