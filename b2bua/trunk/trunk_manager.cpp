#include "b2bua/trunk/trunk_manager.h"

#include <sys/socket.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"
#include "b2bua/common/phone_number.h"
#include "b2bua/config/network.h"
#include "b2bua/trunk/failed_exchange.h"
#include "storage/store.h"

namespace b2bua::trunk {
namespace {

constexpr unsigned kFilterWatchMs = 10000;
constexpr int64_t kFilterLogEverySeconds = 3600;

// Requests a trunk may send us on a fresh handle; everything else never reaches a feature.
constexpr nua_event_t kGatedEvents[] = {nua_i_invite, nua_i_options,   nua_i_message, nua_i_notify,
                                        nua_i_refer,  nua_i_subscribe, nua_i_publish, nua_i_info};

// The WAN keys a registration is built from (Via, Contact, the socket it leaves from, the STUN
// server that sizes its keep-alive): a
// change re-registers every trunk. The others need a restart or touch no registration.
bool same_wan(const config::Wan& a, const config::Wan& b) {
  return a.address == b.address && a.port == b.port && a.public_address == b.public_address &&
         a.tls_port == b.tls_port && a.stun == b.stun;
}

bool names_trunk(const TrunkAddresses& t, const std::string& user) {
  if (user.empty()) return false;
  if (user == t.username) return true;
  return std::any_of(t.numbers.begin(), t.numbers.end(),
                     [&](const std::string& n) { return number::same_number(n, user); });
}

bool source_allowed(const TrunkAddresses& t, const std::string& ip) {
  if (std::any_of(t.servers.begin(), t.servers.end(), [&](const HostPort& s) { return s.host == ip; })) return true;
  return std::any_of(t.allowed_sources.begin(), t.allowed_sources.end(),
                     [&](const config::Network& n) { return n.contains(ip); });
}

}  // namespace

int match_inbound(const std::vector<TrunkAddresses>& trunks, const std::string& request_user, const std::string& to_user,
                  const std::string& source_ip, bool* by_token) {
  if (by_token) *by_token = false;
  for (size_t i = 0; i < trunks.size(); ++i) {
    if (!request_user.empty() && request_user == trunks[i].token) {
      if (by_token) *by_token = true;
      // A known token from a foreign address is a forgery or a misrouted call: the token is
      // visible to anyone on the path, the source is what the provider cannot fake over TCP.
      return source_allowed(trunks[i], source_ip) ? static_cast<int>(i) : -1;
    }
  }
  int first = -1;
  for (size_t i = 0; i < trunks.size(); ++i) {
    if (!source_allowed(trunks[i], source_ip)) continue;
    if (names_trunk(trunks[i], request_user) || names_trunk(trunks[i], to_user)) return static_cast<int>(i);
    if (first < 0) first = static_cast<int>(i);
  }
  return first;
}

TrunkManager::TrunkManager(const plane::PlaneContext& context, config::Snapshot config)
    : context_(context), config_(std::move(config)), resolver_(context.root, config_->wan.resolv_conf),
      tls_failure_(context.root), drop_expiry_(context.root), filter_watch_(context.root) {
  if (!context_.wan) return;
  for (nua_event_t e : kGatedEvents) {
    context_.wan->on_request(e, [this](const sip::NuaEvent& ev) { gate(ev); });
  }
  set_stream_keepalive(*config_);
  if (context_.sofia_log) {
    // Reported from inside sofia's transport code: the trunks act on it from the reactor.
    context_.sofia_log->on_tls_failure([this](const std::string&) {
      tls_failure_.start(0, [this] {
        for (auto& [name, reg] : trunks_) reg->on_tls_failure();
      });
    });
  }
  refresh_source_filter();
  filter_watch_.every(kFilterWatchMs, [this] { watch_filtered(); });
  for (const auto& t : config_->trunks) start_trunk(t);
}

void TrunkManager::refresh_source_filter() {
  if (config_->wan.strangers == config::OutsidePolicy::reject) {
    // The admin wants strangers answered (403): they must reach the gate.
    if (filtered_) context_.wan->filter_sources(nullptr);
    filtered_.reset();
    return;
  }
  // Over UDP only the servers of UDP trunks: a TCP or TLS provider sends its requests over the
  // connection (identify() says why). Over TCP/TLS the servers of every trunk, since a UDP
  // provider may move a large request to TCP (RFC 3261 18.1.1).
  std::vector<config::Network> datagram, stream;
  auto add = [&](const TrunkRegistration& reg) {
    if (!reg.config().enabled) return;
    std::vector<config::Network> nets = reg.config().allowed_sources;
    for (const auto& server : reg.servers()) {
      config::Network n;
      if (config::parse_network(server.host, n)) nets.push_back(n);
    }
    if (reg.config().transport == config::Transport::udp) datagram.insert(datagram.end(), nets.begin(), nets.end());
    stream.insert(stream.end(), nets.begin(), nets.end());
  };
  for (const auto& [name, reg] : trunks_) add(*reg);
  for (const auto& reg : retiring_) add(*reg);  // their un-REGISTER's answers must come in
  for (auto* list : {&datagram, &stream}) {
    std::sort(list->begin(), list->end(), [](const config::Network& a, const config::Network& b) { return a.text < b.text; });
    list->erase(std::unique(list->begin(), list->end()), list->end());
  }
  FilteredSources now{datagram, stream};
  if (filtered_ && *filtered_ == now) return;
  sip::SourceRules udp_rules{{}, datagram}, stream_rules{{}, stream};
  context_.wan->filter_sources(&udp_rules, SOCK_DGRAM);
  context_.wan->filter_sources(&stream_rules, SOCK_STREAM);
  auto text = [](const std::vector<config::Network>& list) {
    std::string out;
    for (const auto& n : list) out += (out.empty() ? "" : ",") + n.text;
    return out.empty() ? std::string("none") : out;
  };
  B2BUA_LOG(info, "trunk", "wan_source_filter", {{"udp", text(datagram)}, {"tcp", text(stream)}});
  filtered_ = std::move(now);
}

void TrunkManager::watch_filtered() {
  // The kernel drops strangers without telling anyone; its counter says how many. The first
  // ones are worth a warning (something is scanning us), later a line an hour at most.
  uint64_t dropped = context_.wan->datagrams_dropped();
  if (dropped == filter_dropped_logged_) return;
  int64_t now = clock::unix_s();
  bool first = filter_dropped_logged_ == 0;
  if (!first && now - filter_logged_at_ < kFilterLogEverySeconds) return;
  auto level = first ? log::Level::warn : log::Level::info;
  if (log::enabled(level)) {
    log::write(level, "trunk", "wan_packets_dropped",
               {{"dropped_total", dropped}, {"why", "not from a trunk's server, or the receive queue was full"}});
  }
  filter_dropped_logged_ = dropped;
  filter_logged_at_ = now;
}

void TrunkManager::set_stream_keepalive(const config::Config& config) {
  // On TCP/TLS the CRLF ping of RFC 5626 4.4.1 is sofia's own: the transport sends "\r\n\r\n"
  // on every idle connection and closes one whose pong does not come back in time. nua then
  // re-registers at once on a fresh connection (its registration watches the connection), and
  // the new rport moves our Contact there. The setting is the agent's, so the shortest
  // interval of the trunks that ask for CRLF pings on a stream transport wins.
  unsigned interval_ms = 0;
  for (const auto& t : config.trunks) {
    if (!t.enabled || t.transport == config::Transport::udp || t.keepalive.method != config::KeepaliveMethod::crlf) {
      continue;
    }
    unsigned ms = static_cast<unsigned>(t.keepalive.interval) * 1000u;
    if (interval_ms == 0 || ms < interval_ms) interval_ms = ms;
  }
  unsigned pong_bound_ms = interval_ms ? std::min(Keepalive::kProbeBoundMs, interval_ms * 4u / 5u) : 0;
  nua_set_params(context_.wan->nua(), TPTAG_KEEPALIVE(interval_ms), TPTAG_PINGPONG(pong_bound_ms), TAG_END());
}

TrunkManager::~TrunkManager() {
  if (context_.sofia_log) context_.sofia_log->on_tls_failure(nullptr);
}

void TrunkManager::start_trunk(const config::Trunk& trunk) {
  auto* store = context_.store ? &context_.store->trunk_states() : nullptr;
  auto reg = std::make_unique<TrunkRegistration>(*context_.wan, config_, trunk, resolver_, store, context_.sofia_log);
  auto* raw = reg.get();
  raw->on_servers_changed([this] { refresh_source_filter(); });
  trunks_[trunk.name] = std::move(reg);
  raw->start();
}

void TrunkManager::stop_trunk(const std::string& name, std::function<void()> done) {
  auto it = trunks_.find(name);
  if (it == trunks_.end()) {
    if (done) done();
    return;
  }
  retiring_.push_back(std::move(it->second));
  trunks_.erase(it);
  TrunkRegistration* raw = retiring_.back().get();
  raw->stop([this, raw, done = std::move(done)] {
    // Not deleted here: we are inside its own callback chain. Finished ones are purged on the
    // next reload and at the end.
    finished_.push_back(raw);
    if (done) done();
  });
}

void TrunkManager::purge_finished() {
  for (TrunkRegistration* raw : finished_) {
    retiring_.erase(std::remove_if(retiring_.begin(), retiring_.end(),
                                   [raw](const std::unique_ptr<TrunkRegistration>& r) { return r.get() == raw; }),
                    retiring_.end());
  }
  finished_.clear();
}

void TrunkManager::apply_config(const config::Config& before, config::Snapshot snapshot) {
  config_ = std::move(snapshot);
  if (!context_.wan) return;
  const config::Config& now = *config_;
  purge_finished();
  bool wan_changed = !same_wan(before.wan, now.wan);
  set_stream_keepalive(now);
  for (const auto& old : before.trunks) {
    const config::Trunk* fresh = now.find_trunk(old.name);
    if (!fresh) {
      B2BUA_LOG(info, "trunk", "removed", {{"trunk", old.name}});
      stop_trunk(old.name, nullptr);
    }
  }
  for (const auto& t : now.trunks) {
    const config::Trunk* old = before.find_trunk(t.name);
    if (old && *old == t && !wan_changed) continue;
    if (old) {
      B2BUA_LOG(info, "trunk", "changed", {{"trunk", t.name}});
      // Unregister the old account first, then start anew (the new one may be a different
      // account at the same provider, which must not inherit the old binding).
      stop_trunk(t.name, [this, name = t.name] {
        // From the config running by then: a later reload may have changed or removed it.
        const config::Trunk* latest = config_->find_trunk(name);
        if (latest && !trunks_.count(name)) start_trunk(*latest);
      });
    } else {
      B2BUA_LOG(info, "trunk", "added", {{"trunk", t.name}});
      start_trunk(t);
    }
  }
  refresh_source_filter();
}

void TrunkManager::shutdown(std::function<void()> done) {
  std::vector<std::string> names;
  for (const auto& [name, reg] : trunks_) names.push_back(name);
  if (names.empty()) return done();
  auto remaining = std::make_shared<size_t>(names.size());
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  for (const auto& name : names) {
    stop_trunk(name, [remaining, shared_done] {
      if (--*remaining == 0 && *shared_done) std::exchange(*shared_done, nullptr)();
    });
  }
}

void TrunkManager::network_usable() {
  for (auto& [name, reg] : trunks_) reg->retry_now("network usable");
}

const TrunkRegistration* TrunkManager::find(const std::string& name) const {
  auto it = trunks_.find(name);
  return it == trunks_.end() ? nullptr : it->second.get();
}

std::optional<TrunkRoute> TrunkManager::route(const config::Trunk& trunk) const {
  const TrunkRegistration* t = find(trunk.name);
  if (!t || !t->config().enabled) return std::nullopt;
  TrunkRoute r;
  r.domain = trunk_domain(t->config());
  r.contact = t->contact();
  // The resolved server the trunk registers through; before any resolution (or for a trunk
  // that does not register), its outbound proxy or registrar as configured.
  r.proxy = t->route();
  if (r.proxy.empty()) r.proxy = trunk.outbound_proxy ? *trunk.outbound_proxy : trunk.registrar;
  // SDP towards the provider names the relay's public address: configured, else learned from
  // the trunk's registration (Via received), else the WAN bind address.
  const config::Wan& wan = config_->wan;
  r.media_address = wan.public_address ? *wan.public_address : wan.address;
  TrunkSnapshot state = t->snapshot();
  auto learned = parse_host_port(state.public_address, 0);
  if (!wan.public_address && learned) r.media_address = learned->host;
  // A refresh on its way (registering) keeps the binding it refreshes until that expires.
  r.registered = state.state == TrunkState::registered || state.state == TrunkState::unregistered ||
                 state.registered_until > clock::unix_s();
  return r;
}

std::optional<InboundMatch> TrunkManager::identify(const sip::NuaEvent& ev) const {
  std::string ip, transport;
  uint16_t port = 0;
  if (!sip::request_source(ev.nua, ip, port, transport)) return std::nullopt;
  std::vector<TrunkAddresses> addresses;
  std::vector<const TrunkRegistration*> regs;
  for (const auto& [name, reg] : trunks_) {
    if (!reg->config().enabled) continue;
    addresses.push_back({name, reg->token(), reg->servers(), reg->config().allowed_sources, reg->config().numbers,
                         reg->config().username});
    regs.push_back(reg.get());
  }
  const sip_t* sip = ev.sip;
  std::string request_user = sip && sip->sip_request && sip->sip_request->rq_url->url_user
                                 ? sip->sip_request->rq_url->url_user : "";
  std::string to_user = sip && sip->sip_to && sip->sip_to->a_url->url_user ? sip->sip_to->a_url->url_user : "";
  bool by_token = false;
  int i = match_inbound(addresses, request_user, to_user, ip, &by_token);
  if (i < 0) return std::nullopt;
  // A provider reached over TCP or TLS sends its requests over that connection. A UDP packet
  // naming its address costs an attacker one forged header; a TCP connection from that address
  // cannot be forged off-path. So a stream trunk takes nothing over UDP.
  if (transport == "udp" && regs[static_cast<size_t>(i)]->config().transport != config::Transport::udp) return std::nullopt;
  return InboundMatch{regs[static_cast<size_t>(i)], by_token ? MatchedBy::token : MatchedBy::source};
}

std::vector<TrunkSnapshot> TrunkManager::snapshots() const {
  std::vector<TrunkSnapshot> out;
  for (const auto& [name, reg] : trunks_) out.push_back(reg->snapshot());
  return out;
}

void TrunkManager::describe(nlohmann::json& status) const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : snapshots()) {
    nlohmann::json t = {{"name", s.name},
                        {"state", state_name(s.state)},
                        {"registered_until", s.registered_until},
                        {"server", s.server},
                        {"public_address", s.public_address},
                        {"contact", s.contact},
                        {"last_status", s.last_status},
                        {"last_phrase", s.last_phrase},
                        {"alg_detected", s.alg_detected}};
    t["keepalive_rtt_ms"] = s.keepalive_rtt_ms ? nlohmann::json(*s.keepalive_rtt_ms) : nlohmann::json(nullptr);
    if (s.keepalive_answered_at) t["keepalive_answered_at"] = s.keepalive_answered_at;
    t["servers"] = s.servers;
    if (!s.dns.empty()) t["dns"] = s.dns;
    nlohmann::json attempts = nlohmann::json::array();
    for (const auto& a : s.attempts) attempts.push_back({{"at", a.at}, {"server", a.server}, {"result", a.result}});
    t["attempts"] = std::move(attempts);
    if (s.last_failure) t["last_failure"] = to_json(*s.last_failure);
    t["keepalive_interval_s"] = s.keepalive_interval_s;
    if (!s.nat_lifetime_state.empty()) {
      t["nat_lifetime_state"] = s.nat_lifetime_state;
      t["nat_lifetime_s"] = s.nat_lifetime_s ? nlohmann::json(*s.nat_lifetime_s) : nlohmann::json(nullptr);
      t["nat_lifetime_at_least"] = s.nat_lifetime_at_least;
      if (!s.nat_lifetime_reason.empty()) t["nat_lifetime_reason"] = s.nat_lifetime_reason;
    }
    list.push_back(std::move(t));
  }
  status["trunks"] = std::move(list);
  status["wan_requests_rejected"] = rejected_;
  status["wan_packets_dropped"] = context_.wan ? context_.wan->datagrams_dropped() : 0;
}

void TrunkManager::on_inbound(nua_event_t event, InboundHandler handler) { inbound_[event] = std::move(handler); }

void TrunkManager::drop(nua_handle_t* nh) {
  // A scanner on the WAN port learns nothing, not even that something listens; the handle is
  // held unanswered until the sender gave up (sip/silent_drop.h), bounded in number.
  dropped_.hold(nh, clock::unix_s());
  if (!drop_expiry_.armed()) {
    drop_expiry_.every(1000, [this] {
      dropped_.expire(clock::unix_s());
      if (dropped_.held() == 0) drop_expiry_.cancel();
    });
  }
}

void TrunkManager::gate(const sip::NuaEvent& ev) {
  auto match = identify(ev);
  const char* method = ev.sip && ev.sip->sip_request ? ev.sip->sip_request->rq_method_name : "?";
  if (!match) {
    ++rejected_;
    std::string ip, transport;
    uint16_t port = 0;
    sip::request_source(ev.nua, ip, port, transport);
    // The first one is worth a warning; scanners then send thousands, a count is enough.
    bool loud = rejected_ == 1 || rejected_ % 1000 == 0;
    if (loud) {
      B2BUA_LOG(warn, "trunk", "wan_request_rejected",
                {{"method", method}, {"source", ip + ":" + std::to_string(port)}, {"transport", transport},
                 {"rejected_total", rejected_}});
    } else {
      B2BUA_LOG(debug, "trunk", "wan_request_rejected",
                {{"method", method}, {"source", ip + ":" + std::to_string(port)}, {"transport", transport},
                 {"rejected_total", rejected_}});
    }
    if (config_->wan.strangers == config::OutsidePolicy::drop) return drop(ev.nh);
    nua_respond(ev.nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(ev.nua), TAG_END());
    nua_handle_destroy(ev.nh);
    return;
  }
  B2BUA_LOG(debug, "trunk", "inbound_request",
            {{"trunk", match->trunk->config().name}, {"method", method},
             {"matched_by", match->by == MatchedBy::token ? "token" : "source"}});
  auto it = inbound_.find(ev.event);
  if (it != inbound_.end()) return it->second(ev, *match->trunk);
  if (ev.event == nua_i_options) {
    nua_respond(ev.nh, SIP_200_OK, NUTAG_WITH_THIS(ev.nua), TAG_END());
  } else {
    nua_respond(ev.nh, SIP_480_TEMPORARILY_UNAVAILABLE, NUTAG_WITH_THIS(ev.nua), TAG_END());
  }
  B2BUA_LOG(info, "trunk", "inbound_answered",
            {{"trunk", match->trunk->config().name}, {"method", method},
             {"matched_by", match->by == MatchedBy::token ? "token" : "source"}});
  nua_handle_destroy(ev.nh);
}

}  // namespace b2bua::trunk
