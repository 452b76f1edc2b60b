// Blind transfer (RFC 3515 REFER, RFC 5589 call-control transfer): a phone in an answered call
// sends REFER naming an extension; we ring that extension on the transferor's side of the
// relay, tell the transferor how it goes with NOTIFYs of message/sipfrag (100 Trying, 180
// Ringing, then the final answer), and when the target answers, the other party is re-INVITEd
// with the target's SDP (which also takes it off hold: the transferor held it before
// transferring) and the transferor's dialog ends. The other party's dialog, a provider's
// included, stays up: the provider sees at most that re-INVITE.
//
// If the target does not answer, the other party is not dropped: a transferor still in the call
// gets the failure in its NOTIFY and takes the call back (phones resume the held call); one that
// already hung up is rung again once (a recall), as a Fritz!Box does.
//
// A REFER to an outside number is a call the transferor's extension places
// (call_transfer_out.cpp): its outbound permission, destination classes and limits decide.
//
// What is refused, with a final answer instead of a 202 that would promise something (never one
// that ends the dialog, RFC 5057): while the call is not answered or another transfer or
// re-INVITE is under way (491), to an outside number the extension may not call (403), to
// something that is no number (488), in a call whose media does not pass the relay (501). A provider cannot REFER: its dialogs do not allow the
// method (405 from the stack); the check below is for a phone's leg on the wrong agent.
#include <algorithm>
#include <string>

#include "b2bua/calls/call.h"
#include "b2bua/calls/call_manager.h"
#include "b2bua/calls/feature_codes.h"
#include "b2bua/common/log.h"
#include "b2bua/common/phone_number.h"

namespace b2bua::calls {
namespace {

constexpr unsigned kTransferRingMs = 30000;

// The exact Event of the REFER's implied subscription: it carries ;id= (RFC 3515 2.4.6), and
// our NOTIFYs must name it so.
std::string refer_event(const Leg& from, const sip::NuaEvent& ev) {
  const sip_event_t* event = nullptr;
  tl_gets(ev.tags, NUTAG_REFER_EVENT_REF(event), TAG_END());
  return event ? sip_header_as_string(nua_handle_home(from.nh), reinterpret_cast<const sip_header_t*>(event)) : "refer";
}

// A NOTIFY of the transfer's progress (RFC 3515 2.4.4): a status line as message/sipfrag; the
// final one ends the subscription.
void notify_refer(nua_handle_t* nh, const std::string& event, const std::string& frag, bool final) {
  std::string body = frag + "\r\n";
  nua_notify(nh, SIPTAG_EVENT_STR(event.c_str()), NUTAG_SUBSTATE(final ? nua_substate_terminated : nua_substate_active),
             SIPTAG_CONTENT_TYPE_STR("message/sipfrag;version=2.0"), SIPTAG_PAYLOAD_STR(body.c_str()), TAG_END());
}

}  // namespace

Leg* Call::other_party(const Leg& leg) const { return &leg == a.get() ? winner : a.get(); }

void Call::take_place(Leg& leaving, Leg& newcomer) {
  if (&leaving == a.get()) {
    auto it = std::find_if(b.begin(), b.end(), [&](const auto& l) { return l.get() == &newcomer; });
    std::swap(a, *it);
  } else {
    winner = &newcomer;
  }
}

void Call::refuse_refer(Leg& from, const sip::NuaEvent& ev, int status, const char* phrase, const char* why) {
  B2BUA_LOG(info, "calls", "transfer_refused", {{"call", id}, {"ext", from.extension}, {"status", status}, {"reason", why}});
  nua_respond(from.nh, status, phrase, NUTAG_WITH_THIS(ev.nua), TAG_END());
}

void Call::on_refer(Leg& from, const sip::NuaEvent& ev) {
  auto refuse = [&](int status, const char* phrase, const char* why) { refuse_refer(from, ev, status, phrase, why); };
  if (&from.agent != manager.context().lan) return refuse(403, "Forbidden", "transfer from a provider");
  Leg* other = other_party(from);
  if (!from.answered || !other || !other->answered || ending_ || transfer_ || reinvite_from_ ||
      (&from != a.get() && &from != winner)) {
    return refuse(491, "Request Pending", "call not answered or busy with another change");
  }
  const sip_refer_to_t* refer_to = ev.sip ? ev.sip->sip_refer_to : nullptr;
  if (!refer_to) return refuse(400, "Missing Refer-To", "no Refer-To");
  if (refer_to->r_url->url_headers) return attended_transfer(from, ev, *refer_to);
  std::string target = unescape_user(refer_to->r_url->url_user ? refer_to->r_url->url_user : "");
  std::optional<TrunkHunt> out;
  if (!config->find_extension(target)) {
    // Not 404: to a request inside a dialog it would end the dialog (RFC 5057 5.1), and the
    // call with it.
    if (target.empty() || !number::is_dialable(target)) return refuse(488, "Not Acceptable Here", "target is not a number");
    if (direct_media) return refuse(501, "Not Implemented", "outside target of a call without relay");
    const config::Extension* ext = config->find_extension(from.extension);
    const char* refused = "transferor is no extension";
    if (ext) out = manager.hunt_as(*config, *ext, target, transferred_caller(*other), refused);
    if (!out) return refuse(403, "Forbidden", refused);
  }
  Transfer t;
  t.transferor = &from;
  t.target = target;
  t.event = refer_event(from, ev);
  nua_respond(from.nh, SIP_202_ACCEPTED, NUTAG_WITH_THIS(ev.nua), TAG_END());
  transfer_ = std::move(t);
  record.note("transferred", (from.extension.empty() ? record.extension : from.extension) + ">" + target);
  B2BUA_LOG(info, "calls", "transfer_started", {{"call", id}, {"from", from.extension}, {"to", target}});
  notify_transferor("SIP/2.0 100 Trying", false);
  bool ringing = out ? ring_outside_target(std::move(*out)) : ring_transfer_target(target);
  if (!ringing) transfer_failed(480, "Temporarily Unavailable");
}

bool Call::ring_transfer_target(const std::string& extension) {
  Leg& from = *transfer_->transferor;
  Leg* other = other_party(from);
  size_t first_new = b.size();
  std::string number = other == a.get() ? presented_number : record.remote_number;
  if (!manager.fork_to_phones(*this, {extension}, number.empty() ? record.extension : number,
                              other == a.get() ? presented_display : std::string())) {
    return false;
  }
  // The target faces the transferor's side of the relay and is offered what the transferor
  // last had, taken off hold: the target answers for the other party, who is re-INVITEd with
  // that answer once the target picks up.
  for (size_t i = first_new; i < b.size(); ++i) {
    b[i]->is_a = from.is_a;
    b[i]->transfer_target = true;
  }
  for (size_t i = first_new; i < b.size(); ++i) {
    Leg& leg = *b[i];
    std::optional<std::string> offer = active_offer_for_side(from.last_sdp, leg);
    if (!offer) return false;
    leg.last_sdp = *offer;
    send_invite(leg, offer);
  }
  start_transfer_timer();
  return true;
}

void Call::start_transfer_timer() {
  if (!transfer_timer_) transfer_timer_ = std::make_unique<sip::Timer>(manager.context().root);
  transfer_timer_->start(kTransferRingMs, [this] {
    for (auto& leg : b) {
      if (leg->transfer_target) end_leg(*leg, nullptr);
    }
  });
}


void Call::on_transfer_response(Leg& leg, const sip::NuaEvent& ev) {
  if (!transfer_ || ev.status == 100) return;
  if (ev.status < 200) {
    if (!transfer_->ringing) notify_transferor("SIP/2.0 180 Ringing", false);
    transfer_->ringing = true;
    return;
  }
  if ((ev.status == 401 || ev.status == 407) && leg.trunk && !leg.auth_tried && answer_challenge(leg, ev.status, ev)) {
    return;
  }
  if (ev.status < 300) {
    leg.answered = true;
    if (transfer_->answered_by) return;  // a second fork answered: ack_2xx ACKs and BYEs it
    return transfer_answered(leg, ev);
  }
  leg.final_status = ev.status;
  // sofia keeps a refused challenged INVITE "authenticating": the leg is over for us.
  if (ev.status == 401 || ev.status == 407) leg.terminated = true;
  for (auto& other : b) {
    if (other->transfer_target && other->final_status == 0 && !other->answered && !other->cancelled) return;
  }
  transfer_failed(ev.status, ev.phrase);
}

void Call::transfer_answered(Leg& target, const sip::NuaEvent& ev) {
  Leg& from = *transfer_->transferor;
  Leg* other = other_party(from);
  transfer_->answered_by = &target;
  if (transfer_timer_) transfer_timer_->cancel();
  for (auto& leg : b) {
    if (leg->transfer_target && leg.get() != &target) end_leg(*leg, kCompletedElsewhere);
  }
  B2BUA_LOG(info, "calls", "transfer_answered", {{"call", id}, {"to", target.extension}});
  notify_transferor("SIP/2.0 200 OK", true);
  end_leg(from, nullptr);
  // The target takes the transferor's place in the call.
  target.transfer_target = false;
  take_place(from, target);
  // An outside target answered on sessions of its own: the call's media moves there.
  if (!transfer_->sessions.empty()) {
    adopt_sessions(std::move(transfer_->sessions), target.is_a ? 0 : 1);
  }
  transfer_.reset();
  // The other party hears the target: a re-INVITE with the target's answer as its offer.
  std::string sdp = sdp_of(ev.sip);
  std::optional<std::string> offer = sdp.empty() ? std::nullopt : bridge_sdp(target, *other, sdp, true);
  if (!offer) return;
  other->last_sdp = *offer;
  transfer_reinvite_ = true;
  reinvite_from_ = &target;
  nua_invite(other->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(offer->c_str()), TAG_END());
}

void Call::transfer_failed(int status, const char* phrase) {
  if (transfer_timer_) transfer_timer_->cancel();
  Transfer& t = *transfer_;
  B2BUA_LOG(info, "calls", "transfer_failed", {{"call", id}, {"to", t.target}, {"status", status}});
  notify_transferor("SIP/2.0 " + std::to_string(status) + " " + (phrase ? phrase : ""), true);
  release_sessions(t.sessions);
  if (ending_) {
    // The other party hung up while the target rang: there is no call left to recall anyone to.
    transfer_.reset();
    return;
  }
  if (!t.transferor_gone) {
    // The transferor is still in the call: its phone takes the held call back (RFC 5589 6.1).
    transfer_.reset();
    return;
  }
  if (!t.recalled && !t.transferor->extension.empty()) {
    // The transferor hung up trusting the transfer: its extension rings again with the call.
    t.recalled = true;
    t.target = t.transferor->extension;
    record.note("recall", t.target);
    B2BUA_LOG(info, "calls", "transfer_recall", {{"call", id}, {"ext", t.target}});
    if (ring_transfer_target(t.target)) return;
  }
  transfer_.reset();
  hang_up(0, nullptr, "system");
}

void Call::notify_transferor(const std::string& frag, bool final) {
  if (!transfer_ || transfer_->transferor_gone || transfer_->notified_final) return;
  transfer_->notified_final = final;
  notify_refer(transfer_->transferor->nh, transfer_->event, frag, final);
}

bool Call::transferor_left(Leg& leg) {
  if (!transfer_ || &leg != transfer_->transferor) return false;
  // Phones hang up right after the 202 or the first NOTIFY (blind transfer): the call stays
  // with the other party while the target rings.
  transfer_->transferor_gone = true;
  return true;
}

std::optional<std::string> Call::active_offer_for_side(const std::string& sdp, Leg& to, const Sessions* sessions) {
  if (sdp.empty()) return std::nullopt;
  // Off hold: the direction attributes go (RFC 3264 6.1: absent means sendrecv).
  std::string active;
  size_t pos = 0;
  while (pos < sdp.size()) {
    size_t end = sdp.find('\n', pos);
    std::string line = sdp.substr(pos, end == std::string::npos ? std::string::npos : end + 1 - pos);
    pos = end == std::string::npos ? sdp.size() : end + 1;
    if (line.rfind("a=sendonly", 0) == 0 || line.rfind("a=recvonly", 0) == 0 || line.rfind("a=inactive", 0) == 0) {
      continue;
    }
    active += line;
  }
  if (direct_media && !sessions) return active;
  const Sessions& over = sessions ? *sessions : streams;
  auto inspected = media::inspect_sdp(active);
  auto* offered = std::get_if<std::vector<media::SdpStream>>(&inspected);
  if (!offered) return std::nullopt;
  std::vector<std::optional<media::LegPorts>> ports;
  size_t side = to.is_a ? 0 : 1;
  for (size_t i = 0; i < offered->size(); ++i) {
    if (i < over.size() && over[i] && !(*offered)[i].disabled) {
      media::LegPorts p = over[i]->legs[side];
      p.ip = to.sdp_address;
      ports.emplace_back(p);
    } else {
      ports.emplace_back(std::nullopt);
    }
  }
  auto rewritten = media::rewrite_sdp(active, ports, to.origin);
  if (auto* text = std::get_if<std::string>(&rewritten)) return *text;
  return std::nullopt;
}

void Call::attended_transfer(Leg& from, const sip::NuaEvent& ev, const sip_refer_to_t& refer_to) {
  auto refuse = [&](int status, const char* phrase, const char* why) { refuse_refer(from, ev, status, phrase, why); };
  su_home_t home[1] = {SU_HOME_INIT(home)};
  // Refer-To: <sip:11@host?Replaces=callid%3Bto-tag%3D..%3Bfrom-tag%3D..>: the escaped header
  // names the transferor's dialog with the consulted party, as the transferor sees it.
  tagi_t* headers = sip_url_query_as_taglist(home, refer_to.r_url->url_headers, nullptr);
  const tagi_t* t = headers ? tl_find(headers, siptag_replaces) : nullptr;
  const auto* replaces = t ? reinterpret_cast<const sip_replaces_t*>(t->t_value) : nullptr;
  Leg* consulting = Leg::by_replaces(manager.context().lan->nua(), replaces);
  su_home_deinit(home);
  if (!replaces) return refuse(501, "Not Implemented", "Refer-To headers other than Replaces");
  // Not 481: to a request inside a dialog it would end the dialog (RFC 5057).
  if (!consulting || consulting->call == this || consulting->terminated || !consulting->answered) {
    return refuse(403, "Replaced Call Not Found", "no such call of ours");
  }
  // Only the transferor's own calls: a Replaces naming someone else's dialog is refused.
  if (consulting->extension != from.extension || from.extension.empty()) {
    return refuse(403, "Forbidden", "replaced call belongs to another extension");
  }
  Call& other = *consulting->call;
  Leg* consulted = other.other_party(*consulting);
  bool busy = other.ending_ || other.reinvite_from_ || other.update_from_ || other.transfer_;
  if (!consulted || !consulted->answered || busy) return refuse(491, "Request Pending", "consultation not settled");
  // The consulted party takes the transferor's place on the transferor's side of this call's
  // relay, re-INVITEd there with our own SDP: both calls must pass the relay.
  if (direct_media || other.direct_media) return refuse(501, "Not Implemented", "a call without relay");
  const bool outside = &consulted->agent != &from.agent;
  nua_respond(from.nh, SIP_202_ACCEPTED, NUTAG_WITH_THIS(ev.nua), TAG_END());
  std::string event_text = refer_event(from, ev);
  std::string who = consulted->extension.empty() ? other.record.remote_number : consulted->extension;
  record.note("transferred", from.extension + ">" + who);
  other.record.note("transferred", from.extension + ">" + who);
  B2BUA_LOG(info, "calls", "transfer_attended",
            {{"call", id}, {"from", from.extension}, {"to", who}, {"consultation", other.id}});
  std::string offer_base = from.last_sdp;
  swap_legs(from, other, *consulted);
  // The transfer is done as far as the transferor is concerned: its two dialogs end now, in
  // the consultation call, where its legs are.
  notify_refer(from.nh, event_text, "SIP/2.0 200 OK", true);
  other.hang_up(0, nullptr, "caller");
  // The consulted party is re-INVITEd to this call's relay, then the held party with its answer
  // (complete_reinvite), which also takes it off hold.
  Leg* held = other_party(*consulted);
  // An outside consulted party needs the transferor's side of the relay on the WAN.
  if (!held || (outside && !move_side_to_wan(*consulted, offer_base))) return hang_up(0, nullptr, "system");
  std::optional<std::string> offer = active_offer_for_side(offer_base, *consulted);
  if (!offer) return hang_up(0, nullptr, "system");
  consulted->last_sdp = *offer;
  attended_reinvite_ = true;
  reinvite_from_ = held;
  nua_invite(consulted->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(offer->c_str()), TAG_END());
}

void Call::swap_legs(Leg& mine, Call& other, Leg& theirs) {
  auto slot_of = [](Call& call, Leg& leg) -> std::unique_ptr<Leg>& {
    if (call.a.get() == &leg) return call.a;
    return *std::find_if(call.b.begin(), call.b.end(), [&](const auto& l) { return l.get() == &leg; });
  };
  bool mine_won = winner == &mine, theirs_won = other.winner == &theirs;
  std::swap(slot_of(*this, mine), slot_of(other, theirs));
  std::swap(mine.is_a, theirs.is_a);
  mine.call = &other;
  theirs.call = this;
  if (mine_won) winner = &theirs;
  if (theirs_won) other.winner = &mine;
}

}  // namespace b2bua::calls
