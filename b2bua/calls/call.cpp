#include "b2bua/calls/call.h"

#include <chrono>
#include <utility>

#include "b2bua/calls/call_manager.h"
#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"
#include "b2bua/trunk/digest_client.h"

namespace b2bua::calls {
namespace {

constexpr const char* kCompletedElsewhere = "SIP;cause=200;text=\"Call completed elsewhere\"";

// nua_respond() keeps the phrase pointer, not a copy, until the stack thread has built the
// response (nua_signal stores e_phrase as given). A phrase from an event dies with the event
// when the callback returns (a heap-use-after-free under ASan), so it is copied to the
// handle's home, which lives as long as the handle (FreeSWITCH's mod_sofia does the same).
const char* lasting_phrase(nua_handle_t* nh, const char* phrase) {
  return phrase ? su_strdup(nua_handle_home(nh), phrase) : nullptr;
}

// What the caller hears when the far side fails: RFC 3261 21.4/21.5 codes a phone handles
// well, keeping the provider's meaning (busy stays busy, not found stays not found).
int map_failure(int status) {
  switch (status) {
    case 486: case 600: return 486;
    case 404: case 484: case 604: return 404;
    case 403: case 603: return status;
    case 408: case 480: return 480;
    case 401: case 407: return 503;  // our trunk credentials were refused
    case 488: case 606: return 488;
    default: break;
  }
  if (status >= 500) return status == 503 || status >= 600 ? 503 : 503;
  return status >= 400 && status < 500 ? status : 480;
}

}  // namespace

const char* direction_name(Direction d) {
  switch (d) {
    case Direction::outbound: return "outbound";
    case Direction::inbound: return "inbound";
    case Direction::internal: return "internal";
  }
  return "unknown";
}

Leg::Leg(Call& c, bool a, sip::SipAgent& ag, nua_handle_t* handle, std::string address)
    : call(c), is_a(a), agent(ag), nh(handle), sdp_address(std::move(address)) {
  nua_handle_bind(nh, this);
  // Session timers stay per leg (never relayed); where we may choose, the peer refreshes, so a
  // dead peer is noticed by nua (BYE on expiry) without us sending SDP-less refreshes.
  nua_set_hparams(nh, NUTAG_SESSION_REFRESHER(nua_remote_refresher), TAG_END());
}

Leg::~Leg() {
  if (nh) {
    nua_handle_bind(nh, nullptr);
    nua_handle_destroy(nh);
  }
}

void Leg::on_nua_event(const sip::NuaEvent& ev) { call.on_event(*this, ev); }

Call::Call(CallManager& m, uint64_t call_id, Direction dir, config::Snapshot cfg)
    : manager(m), id(call_id), direction(dir), config(std::move(cfg)), start_ms(clock::unix_ms()) {}

Call::~Call() {
  // Legs first: their handles must not outlive the relay sessions' owner.
  b.clear();
  a.reset();
}

std::string Call::sdp_of(const sip_t* sip) const {
  if (!sip || !sip->sip_payload || !sip->sip_payload->pl_data || sip->sip_payload->pl_len == 0) return {};
  if (sip->sip_content_type && sip->sip_content_type->c_type &&
      strcasecmp(sip->sip_content_type->c_type, "application/sdp") != 0) {
    return {};
  }
  return std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
}

std::optional<std::string> Call::bridge_sdp(Leg& from, Leg& to, const std::string& sdp, bool is_offer) {
  auto inspected = media::inspect_sdp(sdp);
  if (auto* err = std::get_if<media::SdpError>(&inspected)) {
    B2BUA_LOG(warn, "calls", "sdp_rejected", {{"call", id}, {"reason", err->reason}});
    return std::nullopt;
  }
  const auto& offered = std::get<std::vector<media::SdpStream>>(inspected);
  media::MediaPlane* relay = manager.context().media;
  int from_side = from.is_a ? 0 : 1;
  size_t to_side = from.is_a ? 1 : 0;
  std::vector<std::optional<media::LegPorts>> ports;
  for (size_t i = 0; i < offered.size(); ++i) {
    const auto& s = offered[i];
    if (i >= streams.size()) {
      // A stream we have no session for yet (the first offer, or one a re-offer adds). An
      // answer never adds streams (RFC 3264 section 6), so only offers allocate.
      std::optional<media::Allocation> allocation;
      if (is_offer && !s.disabled && relay) {
        // The network each session leg faces (the relay counts by direction): its SIP leg's agent.
        auto side = [this](const Leg& l) { return &l.agent == manager.context().wan ? media::Side::wan : media::Side::lan; };
        auto result = relay->allocate(media::LegSpec{a_bind_ip, side(*a)},
                                      media::LegSpec{b_bind_ip, side(from.is_a ? to : from)});
        if (auto* failure = std::get_if<media::AllocationError>(&result)) {
          B2BUA_LOG(error, "calls", "relay_unavailable", {{"call", id}, {"reason", failure->reason}});
          return std::nullopt;
        }
        allocation = std::get<media::Allocation>(result);
        manager.session_allocated(allocation->id, *this);
      }
      streams.push_back(allocation);
    }
    const auto& allocation = streams[i];
    if (!allocation || s.disabled) {
      ports.emplace_back(std::nullopt);
      continue;
    }
    relay->set_remote(allocation->id, from_side, s.remote);
    if (remotes_.size() <= i) remotes_.resize(i + 1);
    remotes_[i][static_cast<size_t>(from_side)] = s.remote;
    media::LegPorts p = allocation->legs[to_side];
    p.ip = to.sdp_address;  // e.g. our public address towards a trunk, not the bind address
    ports.emplace_back(p);
  }
  auto rewritten = media::rewrite_sdp(sdp, ports, to.origin);
  if (auto* err = std::get_if<media::SdpError>(&rewritten)) {
    B2BUA_LOG(warn, "calls", "sdp_rejected", {{"call", id}, {"reason", err->reason}});
    return std::nullopt;
  }
  return std::get<std::string>(rewritten);
}

void Call::start(const sip::NuaEvent& invite) {
  a_offer_ = sdp_of(invite.sip);
  a_offered_ = !a_offer_.empty();
  if (!invite_legs(0)) return;
  if (ring_timeout_s > 0) {
    ring_timer_ = std::make_unique<sip::Timer>(manager.context().root);
    ring_timer_->start(static_cast<unsigned>(ring_timeout_s) * 1000, [this] { on_ring_timeout(); });
  }
  B2BUA_LOG(info, "calls", "call_started",
            {{"call", id}, {"direction", direction_name(direction)}, {"extension", extension}, {"trunk", trunk},
             {"remote", remote_number}, {"legs", b.size()}, {"emergency", emergency ? "yes" : "no"}});
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

void Call::send_invite(Leg& leg, const std::optional<std::string>& offer, const std::string& authorization,
                       bool proxy_authorization, const char* call_id) {
  bool auth = !authorization.empty();
  nua_invite(leg.nh, TAG_IF(!leg.contact.empty(), SIPTAG_CONTACT_STR(leg.contact.c_str())),
             TAG_IF(!leg.proxy.empty(), NUTAG_PROXY(leg.proxy.c_str())),
             TAG_IF(!leg.headers.empty(), SIPTAG_HEADER_STR(leg.headers.c_str())),
             TAG_IF(auth && !proxy_authorization, SIPTAG_AUTHORIZATION_STR(authorization.c_str())),
             TAG_IF(auth && proxy_authorization, SIPTAG_PROXY_AUTHORIZATION_STR(authorization.c_str())),
             TAG_IF(call_id, SIPTAG_CALL_ID_STR(call_id)),
             TAG_IF(offer, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
             TAG_IF(offer, SIPTAG_PAYLOAD_STR(offer ? offer->c_str() : "")), TAG_END());
}

bool Call::answer_challenge(Leg& leg, int status, const sip::NuaEvent& ev) {
  const config::Trunk* t = config->find_trunk(trunk);
  auto challenges = trunk::digest_challenges(ev.sip);
  if (!t || challenges.empty()) return false;
  leg.auth_tried = true;
  // The provider challenges our INVITE: answered with the trunk's credentials, never relayed
  // to the phone (RFC 3261 22.3).
  auto answer = trunk::answer_challenges(challenges, t->auth_user(), t->password, "INVITE", leg.request_uri);
  if (!answer) {
    // The call then fails with the provider's status; say why, as the trunk does for REGISTER.
    B2BUA_LOG(warn, "calls", "no_usable_challenge",
              {{"call", id}, {"trunk", trunk}, {"algorithm", challenges.front().algorithm}});
    return false;
  }
  if (!answer->sofia_auth.empty()) {
    nua_authenticate(leg.nh, NUTAG_AUTH(answer->sofia_auth.c_str()), TAG_END());
    return true;
  }
  B2BUA_LOG(debug, "calls", "answering_challenge", {{"call", id}, {"status", status}, {"algorithm", answer->algorithm}});
  std::optional<std::string> offer;
  if (a_offered_) offer = leg.last_sdp;
  // nua would start the new INVITE on a new Call-ID; the provider sees the answer to its
  // challenge in the challenged call.
  send_invite(leg, offer, answer->header, answer->proxy,
              ev.sip && ev.sip->sip_call_id ? ev.sip->sip_call_id->i_id : nullptr);
  return true;
}

void Call::on_ring_timeout() {
  if (winner || ending_) return;
  B2BUA_LOG(info, "calls", "no_answer", {{"call", id}, {"timeout_s", ring_timeout_s}});
  if (fallback && !fallback_used_) {
    // routing.inbound[].fallback: the ring group gave up, the fallback extension rings next
    // (an answering machine, the phone in the hall) for another round of the same timeout.
    fallback_used_ = true;
    size_t first_new = b.size();
    for (auto& leg : b) end_leg(*leg, nullptr);
    if (manager.fork_to_phones(*this, {*fallback}, presented_number, presented_display)) {
      B2BUA_LOG(info, "calls", "fallback", {{"call", id}, {"extension", *fallback}, {"legs", b.size() - first_new}});
      if (invite_legs(first_new)) ring_timer_->start(static_cast<unsigned>(ring_timeout_s) * 1000, [this] { on_ring_timeout(); });
      return;
    }
  }
  hang_up(480, "Temporarily Unavailable", "system");
}

void Call::on_event(Leg& leg, const sip::NuaEvent& ev) {
  if (ev.event == nua_i_state) return on_state(leg, ev);
  if (ev.event == nua_r_invite && ev.status >= 200 && ev.status < 300 && leg.answered && !reinvite_from_) {
    // A re-INVITE nua sent by itself (a session-timer refresh, RFC 4028) goes out without SDP
    // since media is ours; the peer's 2xx then carries an offer that the ACK must answer
    // (RFC 3264 section 5), with the SDP this leg already has.
    leg.ack_with_sdp = !sdp_of(ev.sip).empty();
    return;
  }
  if (leg.is_a) return on_a_event(ev);
  on_b_event(leg, ev);
}

void Call::on_state(Leg& leg, const sip::NuaEvent& ev) {
  int state = leg.state;
  tl_gets(ev.tags, NUTAG_CALLSTATE_REF(state), TAG_END());
  leg.state = state;
  if (state == nua_callstate_completing) {
    // A 2xx to an INVITE we sent on this leg; with NUTAG_AUTOACK(0) the ACK is ours to send.
    if (!leg.is_a && &leg == winner && b_ack_waits_for_a_) return;  // waits for A's answer
    bool with_sdp = std::exchange(leg.ack_with_sdp, false) && !leg.last_sdp.empty();
    nua_ack(leg.nh, TAG_IF(with_sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
            TAG_IF(with_sdp, SIPTAG_PAYLOAD_STR(leg.last_sdp.c_str())), TAG_END());
    // CANCEL crossed the 2xx, or a second phone answered a fork: the dialog exists, end it.
    if (!leg.is_a && (ending_ || (winner && winner != &leg))) nua_bye(leg.nh, TAG_END());
  } else if (state == nua_callstate_terminated) {
    leg.terminated = true;
    // The far side of a dialog that ended by itself (a failure, a timeout) is ended too.
    if (&leg == a.get() && !ending_) {
      ending_ = true;
      if (hangup_by.empty()) hangup_by = "caller";
      for (auto& other : b) end_leg(*other, nullptr);
    } else if (&leg == winner && !ending_) {
      ending_ = true;
      if (hangup_by.empty()) hangup_by = "callee";
      end_leg(*a, nullptr);
    }
    check_finished();
  }
}

void Call::on_a_event(const sip::NuaEvent& ev) {
  switch (ev.event) {
    case nua_i_cancel:
      // nua already answered 200 to the CANCEL and 487 to the INVITE.
      B2BUA_LOG(info, "calls", "cancelled", {{"call", id}, {"by", "caller"}});
      ending_ = true;
      hangup_by = "caller";
      final_code = 487;
      for (auto& leg : b) end_leg(*leg, nullptr);
      break;
    case nua_i_bye:
      B2BUA_LOG(info, "calls", "hangup", {{"call", id}, {"by", "caller"}});
      ending_ = true;
      hangup_by = "caller";
      if (winner) end_leg(*winner, nullptr);
      break;
    case nua_i_ack:
      if (b_ack_waits_for_a_ && winner) {
        // Delayed offer: A's ACK carries the answer to the offer B's 2xx made.
        b_ack_waits_for_a_ = false;
        std::string sdp = sdp_of(ev.sip);
        std::optional<std::string> answer;
        if (!sdp.empty()) answer = bridge_sdp(*a, *winner, sdp, false);
        nua_ack(winner->nh, TAG_IF(answer, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
                TAG_IF(answer, SIPTAG_PAYLOAD_STR(answer ? answer->c_str() : "")), TAG_END());
        if (!answer) hang_up(0, nullptr, "system");
      }
      break;
    case nua_i_invite:
      on_reinvite(*a, ev);
      break;
    case nua_r_invite:
      // Answer to a re-INVITE we bridged from B.
      if (reinvite_from_ && reinvite_from_ != a.get() && ev.status >= 200) complete_reinvite(*reinvite_from_, *a, ev);
      break;
    case nua_i_info:
      // SIP INFO (e.g. application/dtmf-relay) goes to the other dialog. INFO is an
      // application method (CallManager), so out-of-dialog INFO is never auto-answered 200.
      nua_respond(a->nh, SIP_200_OK, NUTAG_WITH_THIS(ev.nua), TAG_END());
      if (winner && ev.sip) {
        nua_info(winner->nh, TAG_IF(ev.sip->sip_content_type, SIPTAG_CONTENT_TYPE(ev.sip->sip_content_type)),
                 TAG_IF(ev.sip->sip_payload, SIPTAG_PAYLOAD(ev.sip->sip_payload)), TAG_END());
      }
      break;
    default:
      break;
  }
}

void Call::on_b_event(Leg& leg, const sip::NuaEvent& ev) {
  switch (ev.event) {
    case nua_r_invite:
      on_b_response(leg, ev);
      break;
    case nua_i_bye:
      B2BUA_LOG(info, "calls", "hangup", {{"call", id}, {"by", "callee"}});
      if (&leg == winner) {
        ending_ = true;
        hangup_by = "callee";
        end_leg(*a, nullptr);
      }
      break;
    case nua_i_invite:
      on_reinvite(leg, ev);
      break;
    case nua_i_info:
      nua_respond(leg.nh, SIP_200_OK, NUTAG_WITH_THIS(ev.nua), TAG_END());
      if (&leg == winner && ev.sip) {
        nua_info(a->nh, TAG_IF(ev.sip->sip_content_type, SIPTAG_CONTENT_TYPE(ev.sip->sip_content_type)),
                 TAG_IF(ev.sip->sip_payload, SIPTAG_PAYLOAD(ev.sip->sip_payload)), TAG_END());
      }
      break;
    default:
      break;
  }
}

void Call::on_b_response(Leg& leg, const sip::NuaEvent& ev) {
  int status = ev.status;
  if (reinvite_from_ == a.get() && &leg == winner) {
    if (status >= 200) complete_reinvite(*a, leg, ev);
    return;
  }
  if (status < 200) {
    if (status == 100 || ending_ || winner) return;
    std::string sdp = sdp_of(ev.sip);
    std::optional<std::string> early;
    if (!sdp.empty() && a_offered_) early = bridge_sdp(leg, *a, sdp, false);
    if (early) a->last_sdp = *early;
    // 180 and 183 (with the provider's early media through the relay) reach the caller.
    nua_respond(a->nh, status, lasting_phrase(a->nh, ev.phrase), TAG_IF(!a->contact.empty(), SIPTAG_CONTACT_STR(a->contact.c_str())),
                TAG_IF(early, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
                TAG_IF(early, SIPTAG_PAYLOAD_STR(early ? early->c_str() : "")), TAG_END());
    return;
  }
  if ((status == 401 || status == 407) && direction == Direction::outbound && !leg.auth_tried && !ending_ &&
      answer_challenge(leg, status, ev)) {
    return;
  }
  if (status >= 300) {
    leg.final_status = status;
    b_failed(leg, status, ev.phrase);
    return;
  }
  // 2xx
  leg.answered = true;
  if (winner && winner != &leg) return;  // a second answer: on_state ACKs and BYEs it
  if (ending_) return;                   // CANCEL crossed the 200: on_state ACKs and BYEs it
  winner = &leg;
  answer_ms = clock::unix_ms();
  if (ring_timer_) ring_timer_->cancel();
  for (auto& other : b) {
    if (other.get() != &leg) end_leg(*other, kCompletedElsewhere);
  }
  if (!leg.extension.empty() && direction != Direction::outbound) {
    if (direction == Direction::inbound) extension = leg.extension;
  }
  answer_a(200, "OK", ev.sip, leg);
}

void Call::answer_a(int status, const char* phrase, const sip_t* sip_with_sdp, Leg& from) {
  std::string sdp = sdp_of(sip_with_sdp);
  std::optional<std::string> bridged;
  if (!sdp.empty()) {
    // With an offer from A this is the answer; without one (delayed offer) B's 2xx is the offer.
    bridged = bridge_sdp(from, *a, sdp, !a_offered_);
    if (!a_offered_) b_ack_waits_for_a_ = true;
  }
  if (!bridged && (a_offered_ || !sdp.empty())) {
    B2BUA_LOG(warn, "calls", "answer_unusable", {{"call", id}});
    b_ack_waits_for_a_ = false;
    ending_ = true;
    hangup_by = "system";
    final_code = 488;
    nua_respond(a->nh, 488, "Not Acceptable Here", TAG_END());
    return;  // on_state ACKs and BYEs B
  }
  a->answered = true;
  final_code = status;
  if (bridged) a->last_sdp = *bridged;
  nua_respond(a->nh, status, phrase, TAG_IF(!a->contact.empty(), SIPTAG_CONTACT_STR(a->contact.c_str())),
              TAG_IF(bridged, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
              TAG_IF(bridged, SIPTAG_PAYLOAD_STR(bridged ? bridged->c_str() : "")), TAG_END());
  B2BUA_LOG(info, "calls", "answered", {{"call", id}, {"extension", extension}, {"trunk", trunk}});
}

void Call::b_failed(Leg& leg, int status, const char* phrase) {
  B2BUA_LOG(info, "calls", "leg_failed", {{"call", id}, {"status", status}, {"phrase", phrase}, {"extension", leg.extension}});
  if (ending_ || winner) return;
  bool any_busy = false;
  for (auto& other : b) {
    if (other->final_status == 0 && !other->cancelled) return;  // others may still answer
    any_busy = any_busy || other->final_status == 486 || other->final_status == 600;
  }
  int code = direction == Direction::outbound ? map_failure(status) : any_busy ? 486 : 480;
  // Keep the provider's reason phrase where the code is its own; ours where we mapped it.
  const char* text = code == status ? phrase : code == 486 ? "Busy Here" : code == 404 ? "Not Found"
                     : code == 503 ? "Service Unavailable" : code == 488 ? "Not Acceptable Here"
                                   : "Temporarily Unavailable";
  ending_ = true;
  hangup_by = "callee";
  final_code = code;
  nua_respond(a->nh, code, lasting_phrase(a->nh, text), TAG_END());
}

void Call::on_reinvite(Leg& from, const sip::NuaEvent& ev) {
  Leg* to = from.is_a ? winner : a.get();
  if (!to || !to->answered || !from.answered || ending_) {
    nua_respond(from.nh, 491, "Request Pending", TAG_END());
    return;
  }
  if (reinvite_from_) {
    // RFC 3261 14.1: glare; the other side retries after a random wait.
    nua_respond(from.nh, 491, "Request Pending", TAG_END());
    return;
  }
  std::string sdp = sdp_of(ev.sip);
  if (sdp.empty()) {
    // A refresh without an offer (e.g. a session timer): answered locally with what we sent
    // last, the other dialog is not disturbed.
    nua_respond(from.nh, SIP_200_OK, TAG_IF(!from.contact.empty(), SIPTAG_CONTACT_STR(from.contact.c_str())),
                TAG_IF(!from.last_sdp.empty(), SIPTAG_CONTENT_TYPE_STR("application/sdp")),
                TAG_IF(!from.last_sdp.empty(), SIPTAG_PAYLOAD_STR(from.last_sdp.c_str())), TAG_END());
    return;
  }
  auto remotes_before_offer = remotes_;
  auto offer = bridge_sdp(from, *to, sdp, true);
  if (!offer) {
    nua_respond(from.nh, 488, "Not Acceptable Here", TAG_END());
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
  std::optional<std::string> answer;
  if (ev.status < 300 && !sdp.empty()) answer = bridge_sdp(answering, from, sdp, false);
  if (answer) {
    from.last_sdp = *answer;
    nua_respond(from.nh, SIP_200_OK, TAG_IF(!from.contact.empty(), SIPTAG_CONTACT_STR(from.contact.c_str())),
                SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(answer->c_str()),
                TAG_END());
    return;
  }
  // RFC 3261 14.2: a failed re-INVITE leaves the session as it was, on both sides; the
  // requester hears the far side's own answer, and the relay goes back to the old addresses.
  restore_remotes(remotes_before_reinvite_);
  nua_respond(from.nh, ev.status < 300 ? 488 : ev.status,
              ev.status < 300 ? "Not Acceptable Here" : lasting_phrase(from.nh, ev.phrase), TAG_END());
}

void Call::restore_remotes(const std::vector<std::array<std::optional<media::RemoteMedia>, 2>>& before) {
  media::MediaPlane* relay = manager.context().media;
  for (size_t i = 0; i < before.size() && i < streams.size(); ++i) {
    if (!streams[i] || !relay) continue;
    for (size_t side = 0; side < 2; ++side) {
      if (before[i][side]) relay->set_remote(streams[i]->id, static_cast<int>(side), *before[i][side]);
    }
  }
  remotes_ = before;
}

void Call::end_leg(Leg& leg, const char* reason) {
  if (leg.terminated) return;
  if (leg.answered) {
    nua_bye(leg.nh, TAG_END());
  } else if (!leg.is_a && !leg.cancelled && leg.final_status == 0) {
    // An unanswered leg is cancelled; nua_bye() on an early dialog does nothing (900).
    leg.cancelled = true;
    nua_cancel(leg.nh, TAG_IF(reason, SIPTAG_REASON_STR(reason)), TAG_END());
  }
}

void Call::hang_up(int code, const char* phrase, const char* by) {
  if (!ending_) {
    ending_ = true;
    hangup_by = by;
  }
  if (!a->answered && !a->terminated && code >= 300) {
    final_code = code;
    nua_respond(a->nh, code, phrase, TAG_END());
  } else {
    end_leg(*a, nullptr);
  }
  for (auto& leg : b) end_leg(*leg, nullptr);
  if (!end_bound_) {
    // Dialogs normally end within a transaction timeout; a peer that never answers our BYE
    // must not keep the call (and its relay ports) forever.
    end_bound_ = std::make_unique<sip::Timer>(manager.context().root);
    end_bound_->start(40000, [this] {
      B2BUA_LOG(warn, "calls", "forced_end", {{"call", id}});
      a->terminated = true;
      for (auto& leg : b) leg->terminated = true;
      check_finished();
    });
  }
  check_finished();
}

void Call::on_media_timeout() {
  B2BUA_LOG(info, "calls", "media_timeout", {{"call", id}});
  hang_up(408, "Request Timeout", "system");
}

void Call::check_finished() {
  if (finished_ || !a->terminated) return;
  for (auto& leg : b) {
    if (!leg->terminated) return;
  }
  finished_ = true;
  if (ring_timer_) ring_timer_->cancel();
  if (end_bound_) end_bound_->cancel();
  end_ms = clock::unix_ms();
  manager.call_finished(*this);
}

}  // namespace b2bua::calls
