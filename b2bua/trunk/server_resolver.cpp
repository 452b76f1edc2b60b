#define SRES_CONTEXT_T b2bua::trunk::ServerResolver
#include "b2bua/trunk/server_resolver.h"

#include <arpa/inet.h>
#include <sofia-sip/sresolv.h>

#include <algorithm>

#include "b2bua/common/log.h"

namespace b2bua::trunk {
namespace {

constexpr unsigned kMinTtlS = 30;     // re-resolve no more often, whatever the zone says
constexpr unsigned kMaxTtlS = 3600;   // and at least hourly
constexpr unsigned kUnknownTtlS = 300;

uint16_t default_port(config::Transport t) { return t == config::Transport::tls ? 5061 : 5060; }

std::string srv_name(const std::string& host, config::Transport t) {
  switch (t) {
    case config::Transport::tcp: return "_sip._tcp." + host;
    case config::Transport::tls: return "_sips._tcp." + host;
    case config::Transport::udp: break;
  }
  return "_sip._udp." + host;
}

}  // namespace

SipTarget parse_sip_target(const std::string& uri) {
  SipTarget t;
  size_t colon = uri.find(':');
  if (colon == std::string::npos) return t;
  std::string rest = uri.substr(colon + 1);
  rest = rest.substr(0, rest.find_first_of(";?>"));
  if (size_t at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  auto hp = parse_host_port(rest, 0);
  if (!hp) return t;
  t.host = hp->host;
  t.port = hp->port;
  t.ok = !t.host.empty();
  return t;
}

ServerResolver::ServerResolver(su_root_t* root, std::string resolv_conf)
    : root_(root), resolv_conf_(std::move(resolv_conf)) {}

ServerResolver::~ServerResolver() {
  // Destroying the resolver drops its pending queries; none of their callbacks runs after it.
  if (sres_) sres_resolver_destroy(sres_);
}

void ServerResolver::resolve(const void* owner, const SipTarget& target, config::Transport transport, Done done) {
  unsigned ticket = next_ticket_++;
  if (is_ip_literal(target.host)) {
    Resolution r;
    r.servers.push_back({target.host, target.port ? target.port : default_port(transport)});
    done(r);
    return;
  }
  Request& req = requests_[ticket];
  req.owner = owner;
  req.target = target;
  req.transport = transport;
  req.done = std::move(done);
  req.ttl_s = kMaxTtlS;
  if (!sres_) sres_ = sres_resolver_create(root_, resolv_conf_.c_str(), TAG_END());
  if (!sres_) {
    return finish(ticket, "cannot start the DNS resolver");
  }
  if (target.port) {
    req.hosts.emplace_back(target.host, target.port);
    next_host(ticket);
  } else {
    query(ticket, sres_type_srv, srv_name(target.host, transport));
  }
}

void ServerResolver::cancel(const void* owner) {
  for (auto it = requests_.begin(); it != requests_.end();) {
    it = it->second.owner == owner ? requests_.erase(it) : std::next(it);
  }
  // Answers to their queries still arrive; answered() finds no request and drops them.
}

void ServerResolver::query(unsigned ticket, uint16_t type, const std::string& name) {
  sres_query_t* q = sres_query(sres_, &ServerResolver::answered, this, type, name.c_str());
  if (!q) return finish(ticket, "DNS query for " + name + " could not be sent");
  queries_[q] = ticket;
}

void ServerResolver::next_host(unsigned ticket) {
  auto it = requests_.find(ticket);
  if (it == requests_.end()) return;
  if (it->second.hosts.empty()) return finish(ticket, "");
  query(ticket, sres_type_a, it->second.hosts.front().first);
}

void ServerResolver::answered(ServerResolver* self, sres_query_t* query, sres_record_t** answers) {
  auto q = self->queries_.find(query);
  unsigned ticket = q == self->queries_.end() ? 0 : q->second;
  if (q != self->queries_.end()) self->queries_.erase(q);
  auto it = self->requests_.find(ticket);
  if (it == self->requests_.end()) {
    sres_free_answers(self->sres_, answers);
    return;
  }
  Request& req = it->second;
  bool srv_stage = req.hosts.empty();
  if (answers) sres_sort_answers(self->sres_, answers);
  for (sres_record_t** a = answers; a && *a; ++a) {
    const auto* common = (*a)->sr_record;
    if (common->r_status != 0) continue;
    req.ttl_s = std::min(req.ttl_s, std::max(common->r_ttl, kMinTtlS));
    if (srv_stage && common->r_type == sres_type_srv) {
      req.hosts.emplace_back((*a)->sr_srv->srv_target, (*a)->sr_srv->srv_port);
    } else if (!srv_stage && common->r_type == sres_type_a) {
      char buf[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &(*a)->sr_a->a_addr, buf, sizeof buf);
      HostPort hp{buf, req.hosts.front().second};
      if (std::find(req.servers.begin(), req.servers.end(), hp) == req.servers.end()) req.servers.push_back(hp);
    }
  }
  sres_free_answers(self->sres_, answers);
  if (srv_stage) {
    // No SRV records: the host itself on the default port (RFC 3263 4.2).
    if (req.hosts.empty()) req.hosts.emplace_back(req.target.host, default_port(req.transport));
  } else {
    req.hosts.erase(req.hosts.begin());
  }
  self->next_host(ticket);
}

void ServerResolver::finish(unsigned ticket, std::string error) {
  auto it = requests_.find(ticket);
  if (it == requests_.end()) return;
  Resolution r;
  r.servers = std::move(it->second.servers);
  r.ttl_s = r.servers.empty() ? 0 : std::clamp(it->second.ttl_s, kMinTtlS, kMaxTtlS);
  if (it->second.ttl_s == kMaxTtlS && r.servers.empty()) r.ttl_s = kUnknownTtlS;
  r.error = r.servers.empty() ? (error.empty() ? "no address found for " + it->second.target.host : error) : "";
  Done done = std::move(it->second.done);
  requests_.erase(it);
  done(r);
}

}  // namespace b2bua::trunk
