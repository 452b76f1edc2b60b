// How many NATs sit between b2bua and its provider, found the way tracepath does it: UDP
// datagrams towards the trunk's server with TTL 1, 2, 3 ..., each router on the way answering
// with ICMP time-exceeded from its own address, read with IP_RECVERR (no raw socket, no root).
// Each router with a private address (RFC 1918, RFC 6598) before the first public one is a
// private network we leave through a NAT; together with our own WAN address (private = a NAT
// in front of us, the provider's Via received names another address) that tells a single NAT
// from a double one: a provider's modem routing (NAT) in front of the home router.
//
// Who calls it: `b2bua doctor` on its main thread, once per run (probe_nat_path blocks up to
// its budget, 1.5 s by default, and sends one small datagram per TTL). The daemon never probes:
// a path does not change while it runs, and nothing should send traceroute packets behind the
// user's back. classify_nat_path is pure (any thread) and unit-tested with hop lists as the
// probe returns them.
#pragma once

#include <chrono>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "b2bua/config/config.h"

namespace b2bua::status {

struct NatHop {
  int ttl = 0;
  std::string address;       // who answered; empty: nobody within the budget
  bool destination = false;  // the target itself answered (port unreachable or a reply)
};

struct NatPath {
  std::string target;      // the trunk server's IPv4 address
  std::string source;      // the address the probe left from (the kernel's choice or wan.address)
  std::vector<NatHop> hops;  // ttl 1.. up to the first public router or the destination
  std::string error;       // why there was no probe ("" when there was one)
};

// IPv4 only: NAT is an IPv4 matter. `source` may be empty (the kernel picks the route's address);
// a source that cannot be bound (the address is gone) falls back to that.
NatPath probe_nat_path(const std::string& source, const std::string& target, int max_hops = 8,
                       std::chrono::milliseconds budget = std::chrono::milliseconds(1500));

struct NatLayout {
  NatPath path;
  std::string wan_address;     // b2bua's WAN address (the probe's source, else wan.address)
  std::string public_address;  // learned from the provider (Via received), "ip" or "ip:port"
  bool on_router = false;      // the WAN address is outside lan.networks: b2bua is the home router
  int private_hops = 0;        // routers with private addresses before the first public one
  bool carrier_nat = false;    // one of them in 100.64.0.0/10: the provider's carrier-grade NAT
  bool wan_private = false;    // our own WAN address is private: something NATs us
  int nats = 0;                // NATs between b2bua and the internet
  int household_nats = 0;      // NATs between the household's phones and the internet
  bool double_nat() const { return household_nats >= 2; }
};

// Pure: counts NATs from the path and the addresses. b2bua in the LAN: every private router up
// to the first public one (home router, modem) is one NAT. b2bua on the router: the router's
// own NAT for the phones plus whatever is in front of its private WAN address.
NatLayout classify_nat_path(const NatPath& path, const std::string& wan_address, const std::string& public_address,
                            bool on_router);

// `b2bua doctor`: probes towards the first trunk whose server the status snapshot names, with
// the config's WAN and LAN sides; nullopt-like (empty path.target and error set) without one.
NatLayout find_nat_layout(const nlohmann::json& snapshot, const config::Config& config);

}  // namespace b2bua::status
