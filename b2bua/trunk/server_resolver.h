// Where a trunk's requests go: the registrar's (or outbound proxy's) host turned into a list of
// addresses to try in order.
//
// We resolve ourselves and hand nua only IP literals (NUTAG_PROXY "sip:ip:port"): sofia 1.12
// can crash or hang inside nta when a request's target does not resolve (fixed only in
// freeswitch/sofia-sip 1.13), and its own resolver never reads /etc/hosts and takes ~64 s to
// give up on a DNS server that does not answer.
//
// The lookups are c-ares on the SIP thread's reactor (its sockets are su_root waits, its
// retransmissions a sip::Timer), so nothing blocks and no thread is started:
//   - SRV (_sip._udp / _sip._tcp / _sips._tcp) when the URI names no port (RFC 3263), targets
//     by priority, then weight; each target's addresses as the system finds them (hosts file,
//     then DNS, as nsswitch.conf says);
//   - no SRV record, or no answer to the SRV query: the host itself on the default port. Its
//     address lookup runs alongside the SRV query, so a silent DNS server costs one bound,
//     not two.
// Every query is bounded (1 s, then 2 s: ~3 s per DNS server), and a server that never
// answered is reported as such ("no answer from ..."), not as a name that does not exist.
// The shortest TTL says when to look again. IP literals need no DNS at all.
//
// Threads: the SIP thread only.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "b2bua/config/config.h"
#include "b2bua/sip/sofia.h"
#include "b2bua/trunk/host_port.h"

struct ares_addrinfo;

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
  // The DNS servers asked never answered (error "no answer from ..."): not a missing name.
  bool unanswered = false;
  std::string dns_servers;        // those servers, "127.0.0.1,10.0.0.1:5353", when unanswered
  // What DNS said, for an admin reading the status: "SRV _sip._udp.example.net: sip1.example.net:5060,
  // sip2.example.net:5060; sip1.example.net: 192.0.2.1; ..." ("" for an IP literal).
  std::string answers;
};

class ServerResolver {
 public:
  using Done = std::function<void(const Resolution&)>;

  // `resolv_conf`: the file naming the DNS servers (resolv.conf format; a "port N" line sets
  // their port). Read again when it changes.
  ServerResolver(su_root_t* root, std::string resolv_conf);
  ~ServerResolver();
  ServerResolver(const ServerResolver&) = delete;
  ServerResolver& operator=(const ServerResolver&) = delete;

  // Calls `done` exactly once unless cancelled: at once (inside this call) for IP literals and
  // names the hosts file answers, else from the SIP thread's reactor.
  void resolve(const void* owner, const SipTarget& target, config::Transport transport, Done done);
  // Drops every pending lookup of `owner`: none of their callbacks runs afterwards.
  void cancel(const void* owner);

 private:
  class Channel;
  struct Lookup {  // one host's addresses
    std::string name;
    uint16_t port = 0;
    int status = -1;  // ARES_* once answered; -1 while pending
    std::vector<std::string> addresses;
    unsigned ttl_s = 0;
  };
  struct Request {
    const void* owner;
    SipTarget target;
    config::Transport transport;
    Done done;
    bool srv_pending = false;
    int srv_status = 0;
    unsigned srv_ttl_s = 0;
    Lookup host;                  // the URI's host itself (no SRV records, or a port given)
    std::vector<Lookup> targets;  // SRV targets, in order
  };

  Channel* channel();
  void srv_answered(unsigned ticket, int status, const unsigned char* answer, int length);
  void host_answered(unsigned ticket, size_t target, int status, const ares_addrinfo* info);
  void lookup(unsigned ticket, size_t target);
  void finish_if_done(unsigned ticket);
  Resolution outcome(const Request& req) const;
  std::string answers(const Request& req) const;

  su_root_t* root_;
  std::string resolv_conf_;
  struct timespec resolv_conf_mtime_ {};
  std::unique_ptr<Channel> channel_;  // created on first use, again after resolv_conf changed
  std::map<unsigned, Request> requests_;
  unsigned next_ticket_ = 1;
};

}  // namespace b2bua::trunk
