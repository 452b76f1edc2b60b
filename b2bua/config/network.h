// Parsing of the address forms the config uses: listen addresses and networks (host:port
// itself is host_port.h). Pure functions: any thread.
#pragma once

#include <string>

#include "b2bua/config/config.h"
#include "b2bua/config/host_port.h"

namespace b2bua::config {

// "udp:192.168.1.1:5060", "tcp:[fd00::1]:5060"; the port defaults to 5060 (5061 for tls).
bool parse_listen_address(const std::string& text, ListenAddress& out, std::string& why);

// "192.168.1.0/24", "fd00::/8", or a single address (a /32 or /128).
bool parse_network(const std::string& text, Network& out);

bool is_loopback(const std::string& ip);

}  // namespace b2bua::config
