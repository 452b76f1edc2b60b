// An "ip:port" pair as trunks use it: where we send, what our Contact names, what a Via says.
#pragma once

#include <cstdint>
#include <string>

namespace b2bua::trunk {

struct HostPort {
  std::string host;  // IP literal (IPv6 without brackets)
  uint16_t port = 0;

  bool empty() const { return host.empty(); }
  std::string str() const;  // "1.2.3.4:5060", "[2001:db8::1]:5060"
  bool operator==(const HostPort&) const = default;
};

// "1.2.3.4:5060", "[::1]:5060", or a bare host with `default_port`.
bool parse_host_port(const std::string& text, uint16_t default_port, HostPort& out);

bool is_ip_literal(const std::string& host);

// RFC 1918, RFC 6598 (carrier-grade NAT), link-local and RFC 4193 addresses: ones that only a
// NAT in front of us can make reachable. Loopback is not counted (tests run on it).
bool is_private_ip(const std::string& ip);

// What our Via sent-by and first Contact name while we sit behind a NAT and do not know our
// public address yet: a name that reveals nothing and can never resolve (RFC 6761 reserves
// .invalid). RFC 3581 providers answer to the source address and port anyway, and tell us the
// public one in received/rport, after which the Contact carries that.
inline constexpr const char* kUnknownPublicHost = "b2bua.invalid";

}  // namespace b2bua::trunk
