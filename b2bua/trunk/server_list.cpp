#include "b2bua/trunk/server_list.h"

#include "b2bua/common/log.h"

namespace b2bua::trunk {

std::string transport_param(config::Transport transport) {
  switch (transport) {
    case config::Transport::tcp: return ";transport=tcp";
    case config::Transport::tls: return ";transport=tls";
    case config::Transport::udp: break;
  }
  return "";
}

ServerList::ServerList(su_root_t* root, ServerResolver& resolver, const config::Trunk& trunk, Resolved resolved)
    : resolver_(resolver), trunk_(trunk), resolved_(std::move(resolved)), ttl_timer_(root) {}

ServerList::~ServerList() { resolver_.cancel(this); }

void ServerList::stop() {
  ttl_timer_.cancel();
  resolver_.cancel(this);
}

void ServerList::resolve() {
  resolver_.cancel(this);
  targets_.clear();
  std::vector<std::string> uris{trunk_.outbound_proxy ? *trunk_.outbound_proxy : trunk_.registrar};
  uris.insert(uris.end(), trunk_.backup_servers.begin(), trunk_.backup_servers.end());
  for (const auto& uri : uris) {
    SipTarget target = parse_sip_target(uri);
    if (target.ok) {
      targets_.push_back(target);
    } else {
      B2BUA_LOG(error, "trunk", "bad_server_uri", {{"trunk", trunk_.name}, {"uri", uri}});
    }
  }
  resolving_ = Resolution{};
  resolving_names_.clear();
  unanswered_.clear();
  resolve_next(0);
}

void ServerList::resolve_next(size_t index) {
  if (index >= targets_.size()) return finish();
  resolver_.resolve(this, targets_[index], trunk_.transport, [this, index](const Resolution& r) {
    for (const auto& s : r.servers) {
      if (std::find(resolving_.servers.begin(), resolving_.servers.end(), s) == resolving_.servers.end()) {
        resolving_.servers.push_back(s);
        resolving_names_.push_back(targets_[index].host);
      }
    }
    if (r.ttl_s && (!resolving_.ttl_s || r.ttl_s < resolving_.ttl_s)) resolving_.ttl_s = r.ttl_s;
    if (!r.error.empty()) resolving_.error += (resolving_.error.empty() ? "" : "; ") + r.error;
    if (!r.answers.empty()) resolving_.answers += (resolving_.answers.empty() ? "" : "; ") + r.answers;
    if (r.unanswered) unanswered_.push_back({targets_[index].host, r.dns_servers});
    resolve_next(index + 1);
  });
}

void ServerList::finish() {
  Resolution r = std::move(resolving_);
  // A failed lookup is shown too: what DNS said is the evidence of why no server is known.
  dns_answers_ = r.answers;
  if (r.ttl_s) ttl_timer_.start(r.ttl_s * 1000u, [this] { resolve(); });
  if (r.servers.empty()) {
    // Names whose DNS servers never answered are the owner's dns_timeout, not a failed lookup.
    if (targets_.empty() || unanswered_.size() < targets_.size()) {
      B2BUA_LOG(error, "trunk", "dns_failed",
                {{"trunk", trunk_.name}, {"error", r.error.empty() ? "no usable server URI" : r.error}});
    }
    return resolved_(Outcome::failed, r.error);
  }
  std::optional<HostPort> in_use = current();
  servers_ = r.servers;
  names_ = std::move(resolving_names_);
  std::string list;
  for (const auto& s : servers_) list += (list.empty() ? "" : ",") + s.str();
  B2BUA_LOG(debug, "trunk", "servers_resolved", {{"trunk", trunk_.name}, {"servers", list}, {"ttl_s", r.ttl_s}});
  auto same = in_use ? std::find(servers_.begin(), servers_.end(), *in_use) : servers_.end();
  if (same != servers_.end()) {
    // Re-resolution: the working flow stays where it is.
    index_ = static_cast<size_t>(same - servers_.begin());
    return resolved_(Outcome::kept, "");
  }
  index_ = 0;
  resolved_(Outcome::fresh, "");
}

std::optional<HostPort> ServerList::current() const {
  if (servers_.empty()) return std::nullopt;
  return servers_[index_ % servers_.size()];
}

bool ServerList::fail_over() {
  if (servers_.empty()) return false;
  index_ = (index_ + 1) % servers_.size();
  return true;
}

std::string ServerList::route_to(size_t index) const {
  if (servers_.empty()) return "";
  index %= servers_.size();
  const HostPort& s = servers_[index];
  const std::string& name = index < names_.size() ? names_[index] : s.host;
  if (trunk_.transport == config::Transport::tls && !is_ip_literal(name)) {
    // RFC 5922 4: the identity to check is the host of the configured URI. nta connects to
    // maddr and verifies the certificate against the URI's host.
    return "sip:" + name + ":" + std::to_string(s.port) + transport_param(trunk_.transport) + ";maddr=" + s.host;
  }
  return "sip:" + s.str() + transport_param(trunk_.transport);
}

}  // namespace b2bua::trunk
