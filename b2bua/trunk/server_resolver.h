// Where a trunk's requests go: the registrar's (or outbound proxy's) host turned into a list of
// addresses to try in order.
//
// We resolve ourselves and hand nua only IP literals (NUTAG_PROXY "sip:ip:port"): sofia 1.12
// can crash or hang inside nta when a request's target does not resolve (fixed only in
// freeswitch/sofia-sip 1.13).
// The lookup is sofia's asynchronous resolver on the SIP thread's reactor, so nothing blocks:
// SRV (_sip._udp / _sip._tcp / _sips._tcp) when the URI names no port, then A records of
// each target; the shortest TTL says when to look again. IP literals need no DNS at all.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "b2bua/config/config.h"
#include "b2bua/sip/sofia.h"
#include "b2bua/trunk/host_port.h"

struct sres_resolver_s;
struct sres_query_s;
union sres_record;

namespace b2bua::trunk {

// Host, port and transport out of "sip:host[:port][;params]" (user part and params ignored).
struct SipTarget {
  std::string host;
  uint16_t port = 0;   // 0: not given (SRV decides, else 5060/5061)
  bool ok = false;
};
SipTarget parse_sip_target(const std::string& uri);

struct Resolution {
  std::vector<HostPort> servers;  // in the order to try
  unsigned ttl_s = 0;             // look again after this long (0 for IP literals: never)
  std::string error;              // set when `servers` is empty
};

class ServerResolver {
 public:
  using Done = std::function<void(const Resolution&)>;

  // `resolv_conf`: the file naming the DNS servers (resolv.conf format).
  ServerResolver(su_root_t* root, std::string resolv_conf);
  ~ServerResolver();
  ServerResolver(const ServerResolver&) = delete;
  ServerResolver& operator=(const ServerResolver&) = delete;

  // Calls `done` exactly once unless cancelled; at once (inside this call) for IP literals.
  void resolve(const void* owner, const SipTarget& target, config::Transport transport, Done done);
  // Drops every pending lookup of `owner`: none of their callbacks runs afterwards.
  void cancel(const void* owner);

 private:
  struct Request {
    const void* owner;
    SipTarget target;
    config::Transport transport;
    Done done;
    std::vector<HostPort> servers;
    std::vector<std::pair<std::string, uint16_t>> hosts;  // still to resolve to A records
    unsigned ttl_s = 0;
  };
  static void answered(ServerResolver* self, sres_query_s* query, sres_record** answers);
  void next_host(unsigned ticket);
  void query(unsigned ticket, uint16_t type, const std::string& name);
  void finish(unsigned ticket, std::string error);

  su_root_t* root_;
  std::string resolv_conf_;
  sres_resolver_s* sres_ = nullptr;  // created on first use
  std::map<unsigned, Request> requests_;
  std::map<sres_query_s*, unsigned> queries_;
  unsigned next_ticket_ = 1;
};

}  // namespace b2bua::trunk
