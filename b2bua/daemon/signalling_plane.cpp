#include "b2bua/daemon/signalling_plane.h"

#include <malloc.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "b2bua/common/log.h"
#include "b2bua/calls/call_manager.h"
#include "b2bua/common/version.h"
#include "b2bua/trunk/host_port.h"
#include "b2bua/trunk/trunk_manager.h"
#include "b2bua/registrar/registrar.h"

namespace b2bua::daemon {
namespace {

constexpr unsigned kMemoryReturnMs = 10000;

// lan.listen entries share one address and port (validated); udp and tcp together bind both.
std::string lan_url(const config::Lan& lan) {
  const auto& first = lan.listen.front();
  bool udp = false, tcp = false;
  for (const auto& l : lan.listen) (l.transport == "tcp" ? tcp : udp) = true;
  config::ListenAddress a = first;
  std::string url = a.to_sip_url();
  if (udp && tcp) url = url.substr(0, url.find(";transport="));
  return url;
}

// `scheme` "sip" binds UDP (and TCP with `tcp`) on wan.port, "sips" TLS on wan.tls_port. A WAN
// transport no trunk uses is a listening socket a scanner can hold connections on for nothing.
std::string wan_url(const config::Wan& wan, const std::string& scheme = "sip", bool tcp = true) {
  auto host = [](const std::string& h) { return config::uri_host(h); };
  std::string port = ":" + std::to_string(scheme == "sips" ? wan.tls_port : wan.port);
  // The URL's host is what every Via we send names (sent-by); maddr is what the sockets bind.
  // Behind a NAT the bind address is private and must never reach the provider: name the
  // configured public address, or, until it is known, a name that reveals nothing.
  std::string head = scheme + ":";
  std::string only_udp = scheme == "sip" && !tcp ? ";transport=udp" : "";
  const std::string sent_by = trunk::via_sent_by_host(wan.public_address, wan.address);
  if (sent_by == wan.address) return head + host(wan.address) + port + only_udp;
  return head + host(sent_by) + port + only_udp + ";maddr=" + host(wan.address);
}

// Phones on the LAN: one or two connections each, kept while they are registered (a phone
// refreshes within registrar.max_expires; we qualify it more often than that).
sip::StreamLimits lan_stream_limits(const config::Config& c) {
  sip::StreamLimits l;
  l.per_source = 8;
  l.total = 256;
  l.idle_ms = static_cast<uint32_t>(c.registrar.max_expires + 60) * 1000;
  return l;
}

// lan.outside "drop": sources outside lan.networks never reach the stack, so they get no
// answer at all (an unanswered request held by the stack would get its 500 in the end).
std::optional<std::vector<config::Network>> lan_outside_drop(const config::Config& c) {
  if (c.lan.outside != config::OutsidePolicy::drop) return std::nullopt;
  return c.lan.networks;
}

sip::FloodLimits lan_flood_limits(const config::Config& c) {
  return {static_cast<unsigned>(c.lan.flood_per_source), static_cast<unsigned>(c.lan.flood_total)};
}

// The WAN listens on TCP/TLS only for a trunk, and our trunk connections are ones we open
// (never listed). A provider that connects to us sends its request at once; anything else
// connecting is a stranger and holds little for short.
sip::StreamLimits wan_stream_limits() {
  sip::StreamLimits l;
  l.per_source = 4;
  l.total = 64;
  l.idle_ms = 120000;
  return l;
}

}  // namespace

std::string user_agent() { return std::string("b2bua/") + kVersion; }

SignallingPlane::SignallingPlane(su_root_t* root, config::Snapshot config, storage::Store* store,
                                 media::MediaPlane* media)
    : config_(std::move(config)), shutdown_bound_(root), memory_return_(root) {
  const auto& c = *config_;
  sofia_log_ = std::make_unique<sip::SofiaLog>();
  sofia_log_->set_quiet(true);  // creating the transports (see sofia_log.h)
  // No User-Agent towards the LAN: phones need none, and a scan of the LAN (svmap) would learn
  // our product and version from every answer. Providers see ours (their support asks for it).
  sip::AgentOptions lan_options{"lan", lan_url(c.lan), "", "REGISTER", "", c.wan.dscp_sip, "", ""};
  lan_options.stream_limits = lan_stream_limits(c);
  lan_options.flood = lan_flood_limits(c);
  // Phones may require it for an INVITE that replaces a dialog (RFC 3891: call pull, pickup).
  lan_options.supported = "replaces";
  // Every UDP transaction lingers 64*T1 after its answer (RFC 3261 timer J, 32 s by default)
  // with both of its messages: at 1000 registrations/s that was over 100 MB held for nothing.
  // On the LAN a lost answer is re-sent within T2 (4 s), so 8 s still absorbs a phone's
  // retransmissions; the same bound makes a phone that never ACKs a 200 lose its call after
  // 8 s (timer H) and an OPTIONS or NOTIFY to a gone phone fail after 8 s (timer F).
  lan_options.transaction_timeout_ms = 8000;
  lan_ = std::make_unique<sip::SipAgent>(root, lan_options);
  lan_->flood_guard()->let_in_only(lan_outside_drop(c));
  if (!c.wan.address.empty()) {
    // OPTIONS is ours on the WAN side: only a trunk's servers get an answer (trunk_manager.h).
    sip::AgentOptions wan_options{"wan", wan_url(c.wan, "sip", c.any_trunk_on(config::Transport::tcp)), user_agent(),
                                  "", "OPTIONS", c.wan.dscp_sip, "", ""};
    // A request the provider leaves unanswered for 8 s is given up (trunk_registration.cpp
    // fails over then); sofia's 32 s would keep resending it to a server we have left.
    wan_options.transaction_timeout_ms = 8000;
    wan_options.stream_limits = wan_stream_limits();
    // The TLS transport (and its port) exists only when a trunk needs it.
    if (c.any_trunk_on(config::Transport::tls)) {
      wan_options.sips_url = wan_url(c.wan, "sips");
      wan_options.tls_ca_dir = c.wan.tls_ca_dir;
    }
    wan_ = std::make_unique<sip::SipAgent>(root, wan_options);
  }
  sofia_log_->set_quiet(false);
  // Every request sofia handles allocates its message and transaction on the heap, and frees
  // them when the transaction ends (32 s after a final answer on UDP, timer J). glibc keeps the
  // freed pages: 20,000 OPTIONS in 10 s took the daemon from 10 MB to 183 MB for good, and
  // malloc_trim(0) brought it back to 11 MB. A router has no memory to spare for that, so the
  // free pages go back to the kernel every few seconds (microseconds on an idle heap).
  memory_return_.every(kMemoryReturnMs, [] { malloc_trim(0); });
  context_ = plane::PlaneContext{root, lan_.get(), wan_.get(), store, media, sofia_log_.get()};
  registrar_ = std::make_unique<registrar::Registrar>(context_, config_);
  if (wan_) trunks_ = std::make_unique<trunk::TrunkManager>(context_, config_);
  calls_ = std::make_unique<calls::CallManager>(context_, config_, *registrar_, trunks_.get());
  if (trunks_) {
    trunks_->on_inbound(nua_i_invite, [target = calls_.get()](const sip::NuaEvent& ev, const trunk::TrunkRegistration& t) {
      target->on_trunk_invite(ev, t.config());
    });
  }
}

SignallingPlane::~SignallingPlane() {
  // Features hold handles of the agents: they go first, in reverse start order.
  calls_.reset();
  trunks_.reset();
  registrar_.reset();
  wan_.reset();
  lan_.reset();
}

std::vector<plane::Feature*> SignallingPlane::features() const {
  std::vector<plane::Feature*> list{registrar_.get()};
  if (trunks_) list.push_back(trunks_.get());
  list.push_back(calls_.get());
  return list;
}

media::MediaEvents* SignallingPlane::media_events() const { return calls_.get(); }
voicemail::Mailboxes* SignallingPlane::mailboxes() const { return calls_ ? calls_->mailboxes_or_null() : nullptr; }

void SignallingPlane::apply_config(config::Snapshot now) {
  auto before = config_;
  config_ = std::move(now);
  if (auto* w = lan_->connections()) w->set_limits(lan_stream_limits(*config_));
  if (auto* g = lan_->flood_guard()) {
    g->set_limits(lan_flood_limits(*config_));
    g->let_in_only(lan_outside_drop(*config_));
  }
  for (plane::Feature* f : features()) f->apply_config(*before, config_);
  B2BUA_LOG(info, "daemon", "config_applied", {{"path", config_->source_path}});
}

void SignallingPlane::network_usable() {
  if (trunks_) trunks_->network_usable();
}

void SignallingPlane::describe(nlohmann::json& status) const {
  for (const plane::Feature* f : features()) f->describe(status);
  nlohmann::json connections = nlohmann::json::object();
  for (const sip::SipAgent* agent : {lan_.get(), wan_.get()}) {
    const sip::ConnectionWarden* w = agent ? agent->connections() : nullptr;
    if (!w) continue;
    connections[agent->name()] = {{"open", w->counts().open}, {"closed", w->counts().closed}};
  }
  status["sip_connections"] = std::move(connections);
  if (const sip::FloodGuard* g = lan_->flood_guard()) {
    auto n = g->counts();
    status["lan_flood"] = {{"sources_blocked_total", n.sources_blocked_total},
                           {"sources_blocked_now", n.sources_blocked_now},
                           {"shields_total", n.shields_total},
                           {"shield_on", n.shield_on}};
  }
}

void SignallingPlane::shutdown(unsigned bound_ms, std::function<void()> done) {
  shutdown_done_ = std::move(done);
  auto list = features();
  pending_ = list.size();
  if (pending_ == 0) return stop_agents();
  shutdown_bound_.start(bound_ms, [this] {
    B2BUA_LOG(warn, "daemon", "shutdown_bound_reached", {{"features_pending", pending_}});
    stop_agents();
  });
  for (plane::Feature* f : list) {
    f->shutdown([this, name = f->name()] {
      B2BUA_LOG(debug, "daemon", "feature_stopped", {{"feature", name}});
      if (pending_ > 0 && --pending_ == 0) stop_agents();
    });
  }
}

void SignallingPlane::stop_agents() {
  if (agents_stopping_) return;
  agents_stopping_ = true;
  shutdown_bound_.cancel();
  auto remaining = std::make_shared<int>(wan_ ? 2 : 1);
  auto one_done = [this, remaining] {
    if (--*remaining == 0 && shutdown_done_) std::exchange(shutdown_done_, nullptr)();
  };
  // nua_shutdown un-REGISTERs and BYEs what is left; sofia bounds it with its own timers, we
  // bound it again so a dead network never keeps the daemon from exiting.
  shutdown_bound_.start(4000, [this] {
    B2BUA_LOG(warn, "daemon", "sip_shutdown_bound_reached", {});
    if (shutdown_done_) std::exchange(shutdown_done_, nullptr)();
  });
  lan_->shutdown(one_done);
  if (wan_) wan_->shutdown(one_done);
}

}  // namespace b2bua::daemon
