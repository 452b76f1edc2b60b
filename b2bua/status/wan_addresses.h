// Which addresses this machine itself has towards the internet, to tell whether the public
// address a provider sees us at is ours (no NAT in front) or a router's (NAT). A router whose
// WAN address follows its interface (DHCP, PPPoE) has no fixed wan.address to compare with:
// the interface's own addresses (wan.interface, getifaddrs) say it, else the source address
// the routing table picks towards the trunk's server (a connected UDP socket; nothing is sent).
//
// Threads: any; each call asks the kernel afresh.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace b2bua::status {

// The IPv4 and IPv6 addresses of interface `name` (link-local IPv6 left out); empty when the
// interface has none or does not exist.
std::vector<std::string> interface_addresses(const std::string& name);

// The source address the kernel would use to send to `ip`; nullopt when there is no route or
// `ip` is no IP literal.
std::optional<std::string> route_source(const std::string& ip);

}  // namespace b2bua::status
