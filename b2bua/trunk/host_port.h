// Addresses as trunks use them: host:port (parsed and printed by b2bua/config/host_port.h, the
// one parser the config and the WAN side share) and which addresses only a NAT in front of us
// can make reachable. Pure functions: any thread.
#pragma once

#include <optional>
#include <string>

#include "b2bua/config/host_port.h"

namespace b2bua::trunk {

using config::HostPort;
using config::is_ip_literal;
using config::parse_host_port;
using config::parse_port;
using config::port_or;
using config::uri_host;

// RFC 1918, RFC 6598 (carrier-grade NAT), link-local and RFC 4193 addresses: ones that only a
// NAT in front of us can make reachable. Loopback is not counted (tests run on it).
bool is_private_ip(const std::string& ip);

// What our Via sent-by and first Contact name while we sit behind a NAT and do not know our
// public address yet: a name that reveals nothing and can never resolve (RFC 6761 reserves
// .invalid). RFC 3581 providers answer to the source address and port anyway, and tell us the
// public one in received/rport, after which the Contact carries that.
inline constexpr const char* kUnknownPublicHost = "b2bua.invalid";

// The host every Via we send towards providers names as sent-by (the WAN agent's URL, fixed
// when the agent starts): the configured public address, else the bind address when it is
// public, else kUnknownPublicHost. Unlike the Contact, it does not follow what we learn.
std::string via_sent_by_host(const std::optional<std::string>& configured_public, const std::string& bind);

}  // namespace b2bua::trunk
