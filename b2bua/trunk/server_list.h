// The servers one trunk sends its requests to, in the order to try them: the outbound proxy
// (else the registrar) and then each of backup_servers, every URI resolved to addresses by
// server_resolver.h. Keeps which one is in use, moves on to the next after a failure
// (failover) and back to the first once the registration's probe finds it answering again
// (failback), and names the route to each for NUTAG_PROXY. Looks the names up again when the
// shortest DNS TTL runs out.
//
// Threads: the SIP thread only, like the ServerResolver it asks.
#pragma once

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "b2bua/config/config.h"
#include "b2bua/sip/timer.h"
#include "b2bua/trunk/host_port.h"
#include "b2bua/trunk/server_resolver.h"

namespace b2bua::trunk {

// ";transport=tcp" / ";transport=tls" for URIs towards the provider; "" for UDP.
std::string transport_param(config::Transport transport);

class ServerList {
 public:
  enum class Outcome {
    failed,  // no server at all (`error` says why); looked up again after the TTL if one was given
    kept,    // a new lookup still lists the server in use: it stays current
    fresh,   // the first server is current (a first lookup, or the one in use is gone)
  };
  using Resolved = std::function<void(Outcome outcome, const std::string& error)>;

  // `trunk` must outlive the list (the registration's config snapshot holds it).
  ServerList(su_root_t* root, ServerResolver& resolver, const config::Trunk& trunk, Resolved resolved);
  ~ServerList();
  ServerList(const ServerList&) = delete;
  ServerList& operator=(const ServerList&) = delete;

  // Looks every configured URI up (again), in order; `resolved` runs once when all answered.
  void resolve();
  // Drops pending lookups and the TTL timer: `resolved` does not run again until resolve().
  void stop();

  // The names of the last lookup whose DNS servers never answered (not a missing name), and
  // those servers: the owner logs them with what it does about it.
  struct Unanswered {
    std::string name;
    std::string dns_servers;
  };
  const std::vector<Unanswered>& unanswered() const { return unanswered_; }

  const std::vector<HostPort>& servers() const { return servers_; }
  // What the last lookup's DNS answers were (Resolution::answers of each URI, "; " between).
  const std::string& dns_answers() const { return dns_answers_; }
  std::optional<HostPort> current() const;
  // The first (preferred) server is the one in use, or none is known yet.
  bool on_first() const { return index_ % std::max<size_t>(servers_.size(), 1) == 0; }
  // True while a server after the current one is left to fail over to.
  bool another_left() const { return index_ + 1 < servers_.size(); }
  // Makes the next server current (after the last, the first); false when there is none.
  bool fail_over();
  void fail_back() { index_ = 0; }

  // Where requests go (NUTAG_PROXY): "sip:ip:port[;transport=x]", or for TLS
  // "sip:name:port;transport=tls;maddr=ip" so the certificate is checked against the name.
  // "" before the first lookup.
  std::string route() const { return route_to(index_); }
  std::string route_to(size_t index) const;

 private:
  void resolve_next(size_t index);
  void finish();

  ServerResolver& resolver_;
  const config::Trunk& trunk_;
  Resolved resolved_;
  sip::Timer ttl_timer_;

  std::vector<SipTarget> targets_;  // outbound proxy or registrar, then backup_servers
  Resolution resolving_;            // what the lookups so far found
  std::vector<std::string> resolving_names_;
  std::vector<Unanswered> unanswered_;
  std::vector<HostPort> servers_;
  std::string dns_answers_;
  std::vector<std::string> names_;  // the URI host each server was resolved from
  size_t index_ = 0;
};

}  // namespace b2bua::trunk
