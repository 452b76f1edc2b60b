// Admission of a new INVITE, up to the Call with its legs: where it may come from (lan.networks,
// blocked sources), who calls (digest as a proxy would ask, RFC 3261 22.3: 407), where it goes
// (routing.h: an extension, a trunk, an inbound number), what the caller may call (its allow
// list of destination classes, deny rules), the call limits, and what crosses to
// the other dialog: the numbers and display names we decide, the identity towards a provider
// (From and P-Asserted-Identity, RFC 3325; Privacy: id for CLIR, RFC 3323), never a header of
// the caller's. A refusal is a final answer, and a call record once the caller is known.
#include <algorithm>

#include "b2bua/calls/block_list.h"
#include "b2bua/calls/call_manager.h"
#include "b2bua/calls/feature_codes.h"
#include "b2bua/calls/routing.h"
#include "b2bua/config/host_port.h"
#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"
#include "b2bua/common/phone_number.h"
#include "b2bua/registrar/binding_table.h"

namespace b2bua::calls {
namespace {

std::string url_user(const url_t* url) { return url && url->url_user ? url->url_user : ""; }

// A display name safe to put between quotes: printable, no quotes or backslashes.
std::string clean_display(const char* raw) {
  std::string out;
  for (const char* p = raw ? raw : ""; *p; ++p) {
    unsigned char c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) out += static_cast<char>(c);
  }
  return out.size() > 64 ? out.substr(0, 64) : out;
}

}  // namespace

void CallManager::reject(const sip::NuaEvent& ev, int status, const char* phrase, const char* why,
                         const char* extra_header, CallRecord* attempt) {
  // The challenge is the first step of every call a phone places (RFC 3261 22.3), not news: at
  // info it was a line per call, and a line per packet of an INVITE flood.
  log::Level level = std::string_view(why) == "challenge" ? log::Level::debug : log::Level::info;
  if (log::enabled(level)) {
    std::string ip, transport;
    uint16_t port = 0;
    sip::request_source(ev.nua, ip, port, transport);
    log::write(level, "calls", "rejected",
               {{"agent", ev.agent.name()}, {"status", status}, {"reason", why}, {"source", ip},
                {"to", url_user(ev.sip && ev.sip->sip_request ? ev.sip->sip_request->rq_url : nullptr)}});
  }
  ++final_codes_[status];
  if (attempt) {
    attempt->start_ms = attempt->end_ms = clock::unix_ms();
    attempt->final_code = status;
    attempt->hangup_by = "system";
    write_record(*attempt, next_id_++, true, nullptr);
  }
  nua_respond(ev.nh, status, phrase, TAG_IF(extra_header, SIPTAG_HEADER_STR(extra_header)), NUTAG_WITH_THIS(ev.nua),
              TAG_END());
  nua_handle_destroy(ev.nh);
}

bool CallManager::authenticate(const sip::NuaEvent& ev, const std::string& source_ip,
                               const config::Extension*& caller) {
  // A source blocked for guessing passwords (through REGISTER or INVITE) gets no answer at
  // all, before any digest work: silence tells it nothing and costs us a lookup.
  if (phones_.source_blocked(source_ip)) {
    phones_.drop_silently(ev.nh);
    return false;
  }
  const config::Config& c = *config_;
  int64_t now = clock::unix_s();
  auto response = registrar::find_digest_response(ev.sip->sip_proxy_authorization, c.lan.realm);
  registrar::DigestVerdict verdict = registrar::DigestVerdict::challenge;
  if (response) {
    // RFC 2617 3.2.2.5: an answer computed for another Request-URI (another number) is no
    // answer for this one; refused before any password work, and counted as a wrong guess.
    const url_t* ruri = ev.sip->sip_request ? ev.sip->sip_request->rq_url : nullptr;
    if (!registrar::digest_uri_matches(*response, ruri, source_ip, "INVITE")) {
      phones_.auth_failed(source_ip, response->username, "INVITE");
      reject(ev, 400, registrar::kDigestUriMismatchPhrase, "digest uri mismatch");
      return false;
    }
    caller = c.find_extension(response->username);
    registrar::DigestSecret secret;
    if (caller) secret = registrar::DigestSecret{caller->password, caller->ha1};
    verdict = auth_.verify(*response, "INVITE", caller ? &secret : nullptr, now);
  }
  if (verdict == registrar::DigestVerdict::ok) {
    if (phones_.auth_succeeded(source_ip, response->username)) return true;
    // The extension is locked and this phone is not registered from here (phones.h).
    verdict = registrar::DigestVerdict::failed;
  } else if (verdict == registrar::DigestVerdict::failed) {
    phones_.auth_failed(source_ip, response ? response->username : "", "INVITE");
  }
  // RFC 3261 22.3: INVITEs are challenged by the proxy role, 407 + Proxy-Authenticate. An
  // unknown caller, a wrong password and a locked extension get the same answer.
  std::string headers;
  for (const auto& ch : auth_.challenges(now, verdict == registrar::DigestVerdict::stale)) {
    headers += "Proxy-Authenticate: " + ch + "\r\n";
  }
  if (!headers.empty()) headers.resize(headers.size() - 2);
  reject(ev, SIP_407_PROXY_AUTH_REQUIRED,
         verdict == registrar::DigestVerdict::failed ? "bad credentials" : "challenge", headers.c_str());
  return false;
}

size_t CallManager::active_calls() const {
  size_t n = 0;
  for (const auto& [id, call] : calls_) n += call->finished() ? 0 : 1;
  return n;
}

size_t CallManager::active_calls_of(const std::string& extension) const {
  size_t n = 0;
  for (const auto& [id, call] : calls_) {
    if (call->finished()) continue;
    // Once per call: an answered inbound call names its phone's extension in the record too.
    bool placed = call->record.extension == extension;
    bool answered = call->winner && call->winner->extension == extension;
    n += (placed || answered) ? 1 : 0;
  }
  return n;
}

size_t CallManager::active_calls_out(const std::string& extension) const {
  size_t n = 0;
  for (const auto& [id, call] : calls_) {
    if (call->finished() || call->direction() != Direction::outbound || call->emergency) continue;
    n += call->record.extension == extension ? 1 : 0;
  }
  return n;
}

void CallManager::refuse_destination(const sip::NuaEvent& ev, int status, const char* phrase, const char* reason,
                                     const char* destination, CallRecord& attempt, bool announce) {
  B2BUA_LOG(warn, "calls", "destination_refused",
            {{"call", next_refusal_serial()}, {"ext", attempt.extension}, {"class", destination},
             {"number", attempt.remote_number}, {"reason", reason}, {"status", status}});
  if (!announce) return reject(ev, status, phrase, reason, nullptr, &attempt);
  refuse_with_announcement(ev, status, phrase, reason, attempt);
}

void CallManager::refuse_with_announcement(const sip::NuaEvent& ev, int status, const char* phrase, const char* why,
                                           CallRecord& attempt) {
  refuse_audibly(ev, status, phrase, why, attempt, [&](Call& call) {
    return call.refuse_with_announcement(status, phrase, "blocked", std::string("refused=") + why);
  });
}

void CallManager::refuse_audibly(const sip::NuaEvent& ev, int status, const char* phrase, const char* why,
                                 CallRecord& attempt, const std::function<bool(Call&)>& tell) {
  const config::Config& c = *config_;
  if (&ev.agent != context_.lan || !c.calls.tones || !context_.media || Call::sdp_of(ev.sip).empty()) {
    return reject(ev, status, phrase, why, nullptr, &attempt);
  }
  Call& call = create(attempt.direction, ev, *context_.lan, c.lan.listen.front().host);
  call.a->extension = attempt.extension;
  call.record.extension = attempt.extension;
  call.record.trunk = attempt.trunk;
  call.record.remote_number = attempt.remote_number;
  call.record.notes = attempt.notes;
  if (!tell(call)) return call.hang_up(status, phrase, "system");
  call.start(ev);
}

bool CallManager::outbound_blocked(const sip::NuaEvent& ev, const config::Extension& caller, CallRecord& attempt) {
  int cooldown_s = config_->limits.cooldown_s;
  auto verdict = outbound_limits_.admit(caller, active_calls_out(caller.number), cooldown_s, clock::unix_s());
  if (verdict.kind == OutboundLimits::Verdict::ok) return false;
  if (verdict.kind == OutboundLimits::Verdict::crossed) {
    // Once per block: the refusals that follow are only the info line of reject().
    B2BUA_LOG(warn, "calls", "extension_limit_reached",
              {{"call", next_refusal_serial()}, {"ext", caller.number}, {"limit", verdict.limit},
               {"value", verdict.value}, {"number", attempt.remote_number},
               {"blocked_for_s", cooldown_s > 0 ? std::to_string(cooldown_s) : "until_reload"}});
  }
  std::string why = std::string("calls out blocked: ") + verdict.limit;
  reject(ev, 403, "Outbound Calls Blocked", why.c_str(), nullptr, &attempt);
  return true;
}

bool CallManager::over_limit(const sip::NuaEvent& ev, const config::Extension* caller, CallRecord& attempt) {
  const config::Config& c = *config_;
  if (active_calls() >= static_cast<size_t>(c.calls.max_concurrent)) {
    reject(ev, SIP_503_SERVICE_UNAVAILABLE, "global call limit", nullptr, &attempt);
    return true;
  }
  if (caller && active_calls_of(caller->number) >= static_cast<size_t>(caller->max_calls)) {
    reject(ev, SIP_486_BUSY_HERE, "extension call limit", nullptr, &attempt);
    return true;
  }
  return false;
}

void CallManager::nobody_to_ring(Call& call) {
  if (call.voicemail_box && call.to_voicemail(*call.voicemail_box, "unregistered")) return;
  call.hang_up(480, "Temporarily Unavailable", "system");
}

bool CallManager::fork_to_phones(Call& call, const std::vector<std::string>& extensions, const std::string& from_number,
                                 const std::string& from_display) {
  const std::string& lan_ip = config_->lan.listen.front().host;
  std::string host = config::uri_host(lan_ip);
  std::string from = (from_display.empty() ? "" : "\"" + from_display + "\" ") + "<sip:" + from_number + "@" + host + ">";
  size_t bindings = 0;
  size_t skipped = 0;
  auto skip = [&](const std::string& ext, const std::string& contact, const char* reason) {
    ++skipped;
    B2BUA_LOG(info, "calls", "binding_skipped", {{"call", call.id}, {"ext", ext},
                                                 {"contact", registrar::contact_host_port(contact)}, {"reason", reason}});
  };
  for (const auto& ext : extensions) {
    registrar::RingTargets targets = phones_.ring_targets(ext);
    bindings += targets.ring.size() + targets.skipped.size();
    for (const auto& s : targets.skipped) skip(ext, s.contact, s.reason);
    for (const auto& target : targets.ring) {
      std::string to = "<sip:" + ext + "@" + host + ">";
      nua_handle_t* nh = nua_handle(context_.lan->nua(), nullptr, NUTAG_URL(target.contact.c_str()),
                                    SIPTAG_TO_STR(to.c_str()), SIPTAG_FROM_STR(from.c_str()), TAG_END());
      if (!nh) {
        skip(ext, target.contact, "no_handle");
        continue;
      }
      B2BUA_LOG(debug, "calls", "ringing_binding",
                {{"call", call.id}, {"ext", ext}, {"contact", registrar::contact_host_port(target.contact)},
                 {"answering_options", target.answering_options ? "yes" : "no"}});
      auto leg = std::make_unique<Leg>(call, false, *context_.lan, nh, lan_ip);
      leg->extension = ext;
      leg->request_uri = target.contact;
      leg->proxy = target.flow_uri;  // reach the phone through the flow it registered on
      call.b.push_back(std::move(leg));
    }
  }
  if (!call.b.empty()) return true;
  std::string names;
  for (const auto& ext : extensions) names += (names.empty() ? "" : ",") + ext;
  // "nobody_registered" only when it is true; otherwise the binding_skipped lines above say why.
  if (bindings == 0) {
    B2BUA_LOG(info, "calls", "nobody_registered", {{"call", call.id}, {"extensions", names}});
  } else {
    B2BUA_LOG(info, "calls", "no_binding_to_ring",
              {{"call", call.id}, {"extensions", names}, {"bindings", bindings}, {"skipped", skipped}});
  }
  return false;
}

void CallManager::on_lan_invite(const sip::NuaEvent& ev) {
  const config::Config& c = *config_;
  std::string ip, transport;
  uint16_t port = 0;
  if (!sip::request_source(ev.nua, ip, port, transport) || !c.lan.contains(ip)) {
    if (c.lan.outside == config::OutsidePolicy::drop) {
      // Held unanswered: destroying the handle would make the stack send a 500.
      phones_.drop_silently(ev.nh);
      return;
    }
    return reject(ev, SIP_403_FORBIDDEN, "source outside lan.networks");
  }
  if (const char* defect = sip::request_defect(ev.sip)) return reject(ev, 400, defect, defect);
  const config::Extension* caller = nullptr;
  if (!authenticate(ev, ip, caller)) return;
  // Replaces names the dialog to take over; the Request-URI says nothing then (RFC 3891 3).
  if (ev.sip->sip_replaces) return on_replaces(ev, *caller);
  // '#' travels escaped in a user part (RFC 3261 19.1.2): "*21*11%23" is the code "*21*11#".
  std::string dialled = unescape_user(url_user(ev.sip->sip_request ? ev.sip->sip_request->rq_url : nullptr));
  CallRecord attempt{.direction = Direction::outbound, .extension = caller->number, .remote_number = dialled};
  if (dialled.empty()) return reject(ev, 484, "Address Incomplete", "no number in the Request-URI", nullptr, &attempt);
  if (looks_like_feature_code(dialled)) return on_feature_code(ev, *caller, dialled);
  if (!number::is_dialable(dialled)) {
    // Letters, '@' or a string longer than any number: never routed (a catch-all outbound
    // rule would otherwise send it to the provider). The record keeps only its dialable part.
    attempt.remote_number = number::presentable(dialled.substr(0, number::kMaxDialledLength));
    // No announcement: nobody dialled this on a keypad (a URI, a scan), and the phone's display
    // says more about it than our voice could.
    return refuse_destination(ev, 404, "Not Found", "not_a_number", "none", attempt, false);
  }

  const config::Extension* callee = c.find_extension(dialled);
  if (!callee) return call_out(ev, *caller, attempt);
  attempt.direction = Direction::internal;
  if (!caller->allows(number::DestinationClass::internal)) {
    return refuse_destination(ev, 403, "Destination Not Allowed", "class_not_allowed", "internal", attempt);
  }
  if (over_limit(ev, caller, attempt)) return;
  Call& call = create(Direction::internal, ev, *context_.lan, c.lan.listen.front().host);
  call.a->extension = caller->number;
  call.record.extension = caller->number;
  call.record.remote_number = callee->number;
  call.ring_timeout_s = 60;
  call.presented_number = caller->number;
  call.presented_display = caller->name;
  if (!deliver(call, callee->number)) return;
  // Phones that reach each other in the LAN may exchange media without the relay.
  call.direct_media = c.calls.direct_media_internal && call.phones_reach_each_other(ip, ev.sip->sip_contact);
  call.start(ev);
}

void CallManager::call_out(const sip::NuaEvent& ev, const config::Extension& caller, CallRecord& attempt) {
  const config::Config& c = *config_;
  OutboundRoute route = route_outbound(c, attempt.remote_number);
  const char* destination = number::class_name(route.destination);
  // Emergency calls pass every refusal and limit below: no rule of ours may stop a 112.
  if (!caller.outbound && !route.emergency) {
    return refuse_with_announcement(ev, 403, "Outbound Calls Not Allowed", "no_calls_out", attempt);
  }
  if (route.denied) return refuse_destination(ev, 403, "Destination Not Allowed", "deny_rule", destination, attempt);
  if (route.trunks.empty()) return refuse_with_announcement(ev, 404, "No Route To Destination", "no_outbound_route", attempt);
  attempt.trunk = route.trunks.front()->name;
  attempt.remote_number = route.number;
  if (!caller.allows(route.destination)) {
    return refuse_destination(ev, 403, "Destination Not Allowed", "class_not_allowed", destination, attempt);
  }
  if (!context_.wan) return reject(ev, SIP_503_SERVICE_UNAVAILABLE, "no WAN side configured", nullptr, &attempt);
  if (!route.emergency && over_limit(ev, &caller, attempt)) return;
  std::vector<const config::Trunk*> trunks = trunks_to_try(route.trunks);
  if (!trunks_ || !trunks_->route(*trunks.front())) {
    return refuse_audibly(ev, SIP_503_SERVICE_UNAVAILABLE, "trunk not usable", attempt, [](Call& call) {
      return call.refuse_with_tone(SIP_503_SERVICE_UNAVAILABLE, media::Tone::congestion);
    });
  }
  // Last: a call the limits admit is counted as placed.
  if (!route.emergency && outbound_blocked(ev, caller, attempt)) return;

  Call& call = create(Direction::outbound, ev, *context_.lan, c.lan.listen.front().host);
  call.a->extension = caller.number;
  call.record.extension = caller.number;
  call.record.remote_number = route.number;
  call.emergency = route.emergency;
  call.max_duration_s = route.emergency ? 0 : caller.limits.max_duration_s;
  call.hunt = TrunkHunt{.caller = call.config->find_extension(caller.number), .withheld = caller.clir,
                        .number = route.number, .left = std::move(trunks), .original_caller = {}};
  if (!open_trunk_leg(call) && !call.refuse_with_tone(503, "Service Unavailable", media::Tone::congestion)) {
    return call.hang_up(503, "Service Unavailable", "system");
  }
  call.start(ev);
}

void CallManager::on_trunk_invite(const sip::NuaEvent& ev, const config::Trunk& trunk) {
  if (const char* defect = sip::request_defect(ev.sip)) return reject(ev, 400, defect, defect);
  const config::Config& c = *config_;
  const sip_t* sip = ev.sip;
  // Who calls: P-Asserted-Identity from the trusted trunk, else From; privacy honoured.
  const sip_from_t* from = sip->sip_from;
  std::string number = from ? url_user(from->a_url) : "";
  std::string display = from ? clean_display(from->a_display) : "";
  bool anonymous = (sip->sip_privacy && sip->sip_privacy->priv_values &&
                    msg_params_find(sip->sip_privacy->priv_values, "id") != nullptr) ||
                   number.empty() || strcasecmp(number.c_str(), "anonymous") == 0;
  number = anonymous ? "anonymous" : number::presentable(number);
  if (anonymous) display = "Anonymous";
  CallRecord attempt{.direction = Direction::inbound, .trunk = trunk.name, .remote_number = number};
  auto trunk_route = trunks_ ? trunks_->route(trunk) : std::nullopt;
  if (!trunk_route) return reject(ev, SIP_503_SERVICE_UNAVAILABLE, "trunk not usable", nullptr, &attempt);
  // The called number: Request-URI user first (unless it is our registration token), then To.
  std::string called = url_user(sip->sip_request ? sip->sip_request->rq_url : nullptr);
  const config::InboundRoute* route = route_inbound(c, called);
  if (!route && sip->sip_to) {
    called = url_user(sip->sip_to->a_url);
    route = route_inbound(c, called);
  }
  if (!route) return reject(ev, 404, "Not Found", "number not routed", nullptr, &attempt);
  // Before the limits: a blocked caller takes no call slot and rings nothing.
  if (auto blocked = blocked_caller(c, *route, number, anonymous)) {
    B2BUA_LOG(info, "calls", "caller_blocked",
              {{"call", next_refusal_serial()}, {"trunk", trunk.name}, {"did", route->number}, {"number", number},
               {"reason", blocked->reason}});
    ++blocked_callers_[blocked->reason];
    attempt.note("blocked", blocked->reason);
    return reject(ev, blocked->answer, blocked->phrase, "caller blocked", nullptr, &attempt);
  }
  if (over_limit(ev, nullptr, attempt)) return;

  Call& call = create(Direction::inbound, ev, *context_.wan, trunk_route->media_address);
  // Our answers carry the trunk's public Contact: the agent's own would name our bind address
  // (private behind a NAT) and the provider's ACK and BYE would not find us.
  call.a->contact = trunk_route->contact;
  call.record.trunk = trunk.name;
  call.record.remote_number = number;
  call.ring_timeout_s = route->timeout;
  call.fallback = route->fallback;
  call.voicemail_box = route->voicemail;
  call.voicemail_on_busy = true;
  call.presented_number = number;
  call.presented_display = display;
  if (!(route->ring.size() == 1 ? deliver(call, route->ring.front()) : ring_group(call, route->ring))) return;
  call.start(ev);
}

}  // namespace b2bua::calls
