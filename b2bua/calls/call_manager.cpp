#include "b2bua/calls/call_manager.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "b2bua/calls/routing.h"
#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"
#include "b2bua/common/phone_number.h"
#include "storage/store.h"

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

nlohmann::json leg_stats_json(const media::LegStats& s) {
  return {{"packets", s.packets}, {"bytes", s.bytes}, {"packets_sent", s.packets_sent}, {"lost", s.lost},
          {"out_of_order", s.out_of_order}, {"dropped_source", s.dropped_source},
          {"dropped_invalid", s.dropped_invalid}, {"jitter_ms", s.jitter_ms}};
}

}  // namespace

CallManager::CallManager(const plane::PlaneContext& context, config::Snapshot config, registrar::Phones& phones,
                         const trunk::TrunkRoutes* trunks)
    : context_(context),
      config_(std::move(config)),
      phones_(phones),
      trunks_(trunks),
      auth_(registrar::digest_settings(*config_)),
      reaper_(context.root),
      stats_bound_(context.root) {
  // WAN INVITEs arrive through the trunk gate (on_trunk_invite), never directly.
  context_.lan->on_request(nua_i_invite, [this](const sip::NuaEvent& ev) { on_lan_invite(ev); });
  // In-dialog SIP INFO (dtmf-relay, RFC 6086) is relayed between the legs; nua answers 405 to
  // a method missing from Allow, and auto-answers 200 to an allowed non-application method
  // even outside a dialog. As an application method, the legs answer it and stray INFO gets
  // the agent's default answer.
  for (sip::SipAgent* agent : {context_.lan, context_.wan}) {
    if (agent) nua_set_params(agent->nua(), NUTAG_ALLOW("INFO"), NUTAG_APPL_METHOD("INFO"), TAG_END());
  }
}

CallManager::~CallManager() {
  calls_.clear();
  pending_.clear();
  dead_.clear();
}

void CallManager::apply_config(const config::Config&, config::Snapshot now) {
  // Calls in progress keep the config they started with; new calls use the new one.
  config_ = std::move(now);
  auth_.update(registrar::digest_settings(*config_));
}

void CallManager::reject(const sip::NuaEvent& ev, int status, const char* phrase, const char* why,
                         const char* extra_header, const Attempt* attempt) {
  std::string ip, transport;
  uint16_t port = 0;
  sip::request_source(ev.nua, ip, port, transport);
  B2BUA_LOG(info, "calls", "rejected",
            {{"agent", ev.agent.name()}, {"status", status}, {"reason", why}, {"source", ip},
             {"to", url_user(ev.sip && ev.sip->sip_request ? ev.sip->sip_request->rq_url : nullptr)}});
  ++final_codes_[status];
  if (attempt && context_.store) {
    int64_t now = clock::unix_ms();
    storage::CallRecordRow row;
    row.call_id = std::to_string(now) + "-r" + std::to_string(next_id_++);
    row.direction = direction_name(attempt->direction);
    row.extension = attempt->extension;
    row.trunk = attempt->trunk;
    row.remote_number = attempt->number;
    row.start_ms = row.end_ms = now;
    row.final_code = status;
    row.hangup_by = "system";
    context_.store->call_records().insert(row);
  }
  nua_respond(ev.nh, status, phrase, TAG_IF(extra_header, SIPTAG_HEADER_STR(extra_header)), NUTAG_WITH_THIS(ev.nua),
              TAG_END());
  nua_handle_destroy(ev.nh);
}

bool CallManager::authenticate(const sip::NuaEvent& ev, const std::string& source_ip,
                               const config::Extension*& caller) {
  const config::Config& c = *config_;
  int64_t now = clock::unix_s();
  auto response = registrar::find_digest_response(ev.sip->sip_proxy_authorization, c.lan.realm);
  registrar::DigestVerdict verdict = registrar::DigestVerdict::challenge;
  if (response) {
    caller = c.find_extension(response->username);
    registrar::DigestSecret secret;
    if (caller) secret = registrar::DigestSecret{caller->password, caller->ha1};
    verdict = auth_.verify(*response, "INVITE", caller ? &secret : nullptr, now);
  }
  if (verdict == registrar::DigestVerdict::ok) {
    phones_.auth_succeeded(source_ip);
    return true;
  }
  if (verdict == registrar::DigestVerdict::failed) phones_.auth_failed(source_ip, response ? response->username : "", "INVITE");
  // RFC 3261 22.3: INVITEs are challenged by the proxy role, 407 + Proxy-Authenticate. An
  // unknown caller and a wrong password get the same answer.
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
    if (call->extension == extension) ++n;
    for (const auto& leg : call->b) n += (leg->extension == extension && call->winner == leg.get()) ? 1 : 0;
  }
  return n;
}

bool CallManager::over_limit(const sip::NuaEvent& ev, const config::Extension* caller, const Attempt& attempt) {
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

void CallManager::nobody_reachable(Call& call, const std::string& target) {
  B2BUA_LOG(info, "calls", "nobody_registered", {{"call", call.id}, {"target", target}});
  call.final_code = 480;
  call.hangup_by = "system";
  nua_respond(call.a->nh, 480, "Temporarily Unavailable", TAG_END());
  call.hang_up(0, nullptr, "system");
}

Call& CallManager::create(Direction direction, const sip::NuaEvent& ev, sip::SipAgent& a_agent,
                          const std::string& a_sdp_addr) {
  uint64_t id = next_id_++;
  auto call = std::make_unique<Call>(*this, id, direction, config_);
  call->a = std::make_unique<Leg>(*call, true, a_agent, ev.nh, a_sdp_addr);
  const std::string& lan_ip = config_->lan.listen.front().host;
  call->a_bind_ip = direction == Direction::inbound ? config_->wan.address : lan_ip;
  call->b_bind_ip = direction == Direction::outbound ? config_->wan.address : lan_ip;
  Call& ref = *call;
  calls_.emplace(id, std::move(call));
  return ref;
}

bool CallManager::fork_to_phones(Call& call, const std::vector<std::string>& extensions, const std::string& from_number,
                                 const std::string& from_display) {
  const std::string& lan_ip = config_->lan.listen.front().host;
  std::string host = lan_ip.find(':') != std::string::npos ? "[" + lan_ip + "]" : lan_ip;
  std::string from = (from_display.empty() ? "" : "\"" + from_display + "\" ") + "<sip:" + from_number + "@" + host + ">";
  for (const auto& ext : extensions) {
    for (const auto& target : phones_.reachable(ext)) {
      std::string to = "<sip:" + ext + "@" + host + ">";
      nua_handle_t* nh = nua_handle(context_.lan->nua(), nullptr, NUTAG_URL(target.contact.c_str()),
                                    SIPTAG_TO_STR(to.c_str()), SIPTAG_FROM_STR(from.c_str()), TAG_END());
      if (!nh) continue;
      auto leg = std::make_unique<Leg>(call, false, *context_.lan, nh, lan_ip);
      leg->extension = ext;
      leg->proxy = target.flow_uri;  // reach the phone through the flow it registered on
      call.b.push_back(std::move(leg));
    }
  }
  return !call.b.empty();
}

void CallManager::on_lan_invite(const sip::NuaEvent& ev) {
  const config::Config& c = *config_;
  std::string ip, transport;
  uint16_t port = 0;
  if (!sip::request_source(ev.nua, ip, port, transport) || !c.lan.contains(ip)) {
    if (c.lan.outside == config::OutsidePolicy::drop) {
      nua_handle_destroy(ev.nh);  // silence: nua's 100 Trying already went, nothing more
      return;
    }
    return reject(ev, SIP_403_FORBIDDEN, "source outside lan.networks");
  }
  // A source blocked for guessing passwords (through REGISTER or INVITE) is refused before
  // any digest work.
  if (phones_.source_blocked(ip)) return reject(ev, SIP_403_FORBIDDEN, "source blocked after failed authentications");
  const config::Extension* caller = nullptr;
  if (!authenticate(ev, ip, caller)) return;
  std::string dialled = url_user(ev.sip->sip_request ? ev.sip->sip_request->rq_url : nullptr);
  Attempt attempt{Direction::outbound, caller->number, "", dialled};
  if (dialled.empty()) return reject(ev, 484, "Address Incomplete", "no number in the Request-URI", nullptr, &attempt);

  if (const config::Extension* callee = c.find_extension(dialled)) {
    attempt.direction = Direction::internal;
    if (over_limit(ev, caller, attempt)) return;
    Call& call = create(Direction::internal, ev, *context_.lan, c.lan.listen.front().host);
    call.extension = caller->number;
    call.remote_number = callee->number;
    call.ring_timeout_s = 60;
    if (!fork_to_phones(call, {callee->number}, caller->number, caller->name)) return nobody_reachable(call, callee->number);
    call.start(ev);
    return;
  }

  if (!caller->outbound) {
    return reject(ev, 403, "Outbound Calls Not Allowed", "extension may not call out", nullptr, &attempt);
  }
  OutboundRoute route = route_outbound(c, dialled);
  if (!route.trunk) return reject(ev, 404, "No Route To Destination", "no outbound route", nullptr, &attempt);
  attempt.trunk = route.trunk->name;
  attempt.number = route.number;
  if (!context_.wan) return reject(ev, SIP_503_SERVICE_UNAVAILABLE, "no WAN side configured", nullptr, &attempt);
  if (!route.emergency && over_limit(ev, caller, attempt)) return;  // emergency calls ignore limits
  const config::Trunk& trunk = *route.trunk;
  auto trunk_route = trunks_ ? trunks_->route(trunk) : std::nullopt;
  if (!trunk_route) return reject(ev, SIP_503_SERVICE_UNAVAILABLE, "trunk not usable", nullptr, &attempt);
  const std::string& domain = trunk_route->domain;
  std::string identity = caller->outgoing_number ? *caller->outgoing_number : trunk.username;
  std::string ruri = "sip:" + route.number + "@" + domain;
  std::string to = "<" + ruri + ">";
  std::string from = caller->clir ? "\"Anonymous\" <sip:anonymous@anonymous.invalid>"
                                  : "<sip:" + identity + "@" + domain + ">";
  // Only what we decide crosses to the provider: our identity for the trunk, CLIR as
  // RFC 3323/3325 ask; none of the phone's headers.
  std::string headers = "P-Asserted-Identity: <sip:" + identity + "@" + domain + ">";
  if (caller->clir) headers += "\r\nPrivacy: id";
  Call& call = create(Direction::outbound, ev, *context_.lan, c.lan.listen.front().host);
  call.extension = caller->number;
  call.trunk = trunk.name;
  call.remote_number = route.number;
  call.emergency = route.emergency;
  nua_handle_t* nh = nua_handle(context_.wan->nua(), nullptr, NUTAG_URL(ruri.c_str()), SIPTAG_TO_STR(to.c_str()),
                                SIPTAG_FROM_STR(from.c_str()), TAG_END());
  auto leg = std::make_unique<Leg>(call, false, *context_.wan, nh, trunk_route->media_address);
  leg->contact = trunk_route->contact;
  leg->proxy = trunk_route->proxy;
  leg->headers = headers;
  leg->request_uri = ruri;
  call.b.push_back(std::move(leg));
  call.start(ev);
}

void CallManager::on_trunk_invite(const sip::NuaEvent& ev, const config::Trunk& matched) {
  const config::Config& c = *config_;
  const config::Trunk* trunk = &matched;
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
  Attempt attempt{Direction::inbound, "", trunk->name, number};
  auto trunk_route = trunks_ ? trunks_->route(*trunk) : std::nullopt;
  if (!trunk_route) return reject(ev, SIP_503_SERVICE_UNAVAILABLE, "trunk not usable", nullptr, &attempt);
  // The called number: Request-URI user first (unless it is our registration token), then To.
  const config::InboundRoute* route = nullptr;
  std::string called = url_user(sip->sip_request ? sip->sip_request->rq_url : nullptr);
  route = route_inbound(c, called);
  if (!route && sip->sip_to) {
    called = url_user(sip->sip_to->a_url);
    route = route_inbound(c, called);
  }
  if (!route) return reject(ev, 404, "Not Found", "number not routed", nullptr, &attempt);
  if (over_limit(ev, nullptr, attempt)) return;

  Call& call = create(Direction::inbound, ev, *context_.wan, trunk_route->media_address);
  // Our answers carry the trunk's public Contact: the agent's own would name our bind address
  // (private behind a NAT) and the provider's ACK and BYE would not find us.
  call.a->contact = trunk_route->contact;
  call.trunk = trunk->name;
  call.remote_number = number;
  call.ring_timeout_s = route->timeout;
  call.fallback = route->fallback;
  call.presented_number = number;
  call.presented_display = display;
  std::vector<std::string> ring = route->ring;
  if (!fork_to_phones(call, ring, number, display)) return nobody_reachable(call, route->number);
  call.start(ev);
}

void CallManager::call_finished(Call& call) {
  ++final_codes_[call.final_code];
  B2BUA_LOG(info, "calls", "call_ended",
            {{"call", call.id}, {"direction", direction_name(call.direction)}, {"extension", call.extension},
             {"trunk", call.trunk}, {"code", call.final_code}, {"by", call.hangup_by},
             {"duration_ms", call.answer_ms ? call.end_ms - call.answer_ms : 0}});
  auto it = calls_.find(call.id);
  if (it == calls_.end()) return;
  std::unique_ptr<Call> owned = std::move(it->second);
  calls_.erase(it);
  size_t sessions = 0;
  for (const auto& s : owned->streams) {
    if (!s) continue;
    ++sessions;
    context_.media->release(s->id);
  }
  if (sessions == 0) {
    write_record(*owned, nullptr);
    dead_.push_back(std::move(owned));
  } else {
    uint64_t id = owned->id;
    pending_.emplace(id, Pending{std::move(owned), sessions, {}});
    // The relay answers a release within milliseconds; a record is never held back longer.
    if (!stats_bound_.armed()) {
      stats_bound_.start(2000, [this] {
        for (auto& [pid, p] : pending_) {
          write_record(*p.call, nullptr);
          dead_.push_back(std::move(p.call));
        }
        pending_.clear();
        reap();
      });
    }
  }
  reap();
}

void CallManager::reap() {
  // Calls end inside their own legs' callbacks; they are destroyed on the next turn of the loop.
  if (!dead_.empty()) reaper_.start(0, [this] { dead_.clear(); });
  if (shutdown_done_ && calls_.empty() && pending_.empty()) std::exchange(shutdown_done_, nullptr)();
}

void CallManager::write_record(Call& call, const std::array<media::LegStats, 2>* stats) {
  if (!context_.store) return;
  storage::CallRecordRow row;
  row.call_id = std::to_string(call.start_ms) + "-" + std::to_string(call.id);
  row.direction = direction_name(call.direction);
  row.extension = call.extension;
  row.trunk = call.trunk;
  row.remote_number = call.remote_number;
  row.start_ms = call.start_ms;
  row.answer_ms = call.answer_ms;
  row.end_ms = call.end_ms;
  row.final_code = call.final_code;
  row.hangup_by = call.hangup_by;
  if (stats) {
    row.media_stats_json = nlohmann::json{{"a", leg_stats_json((*stats)[0])}, {"b", leg_stats_json((*stats)[1])}}.dump();
  }
  context_.store->call_records().insert(row);
}

void CallManager::on_latched(media::SessionId, int, const media::Endpoint&) {}

void CallManager::on_media_timeout(media::SessionId id) {
  auto s = by_session_.find(id);
  if (s == by_session_.end()) return;
  auto c = calls_.find(s->second);
  if (c != calls_.end() && !c->second->finished()) c->second->on_media_timeout();
}

void CallManager::on_released(media::SessionId id, const std::array<media::LegStats, 2>& stats) {
  auto s = by_session_.find(id);
  if (s == by_session_.end()) return;
  uint64_t call_id = s->second;
  by_session_.erase(s);
  auto p = pending_.find(call_id);
  if (p == pending_.end()) return;
  for (size_t leg = 0; leg < 2; ++leg) {
    auto& sum = p->second.stats[leg];
    const auto& one = stats[leg];
    sum.packets += one.packets;
    sum.bytes += one.bytes;
    sum.packets_sent += one.packets_sent;
    sum.lost += one.lost;
    sum.out_of_order += one.out_of_order;
    sum.dropped_source += one.dropped_source;
    sum.dropped_invalid += one.dropped_invalid;
    sum.jitter_ms = std::max(sum.jitter_ms, one.jitter_ms);
    if (!sum.latched.valid()) sum.latched = one.latched;
  }
  if (--p->second.sessions_left == 0) {
    write_record(*p->second.call, &p->second.stats);
    dead_.push_back(std::move(p->second.call));
    pending_.erase(p);
    reap();
  }
}

void CallManager::shutdown(std::function<void()> done) {
  shutdown_done_ = std::move(done);
  for (auto& [id, call] : calls_) {
    if (!call->finished()) call->hang_up(503, "Service Unavailable", "system");
  }
  reap();
}

void CallManager::describe(nlohmann::json& status) const {
  int64_t now_ms = clock::unix_ms();
  nlohmann::json active = nlohmann::json::array();
  for (const auto& [id, call] : calls_) {
    nlohmann::json ports = nlohmann::json::array();
    for (const auto& s : call->streams) {
      if (s) ports.push_back({{"a", s->legs[0].rtp_port}, {"b", s->legs[1].rtp_port}});
    }
    active.push_back({{"id", id}, {"direction", direction_name(call->direction)}, {"extension", call->extension},
                      {"trunk", call->trunk}, {"remote_number", call->remote_number},
                      {"state", call->winner ? "answered" : "ringing"},
                      {"duration_s", (now_ms - (call->answer_ms ? call->answer_ms : call->start_ms)) / 1000},
                      {"relay_ports", ports}});
  }
  status["calls"] = active;
  nlohmann::json codes = nlohmann::json::object();
  for (const auto& [code, n] : final_codes_) codes[std::to_string(code)] = n;
  status["call_totals"] = {{"active", active.size()}, {"by_final_code", codes}};
}

}  // namespace b2bua::calls
