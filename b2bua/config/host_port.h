// "host:port" in every form the daemon reads or writes: config values (lan.listen after its
// transport, status.listen, wan.public_address), trunk server URIs, Via sent-by and received,
// stored public addresses. One parser, so an address means the same in all of them.
//
// Forms: "1.2.3.4:5060", "[2001:db8::1]:5060", "host.example:5060", and without a port
// "1.2.3.4", "[2001:db8::1]", "2001:db8::1" (an IPv6 literal needs brackets only when a port
// follows) or "host.example". Pure functions: any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace b2bua::config {

struct HostPort {
  std::string host;  // IP literal or name (IPv6 without brackets)
  uint16_t port = 0;

  bool empty() const { return host.empty(); }
  std::string str() const;  // "1.2.3.4:5060", "[2001:db8::1]:5060"
  bool operator==(const HostPort&) const = default;
};

// `text` as host and port. Without a port the port is `default_port`; with no default such
// text is refused. A port is decimal 1..65535 and nothing else.
std::optional<HostPort> parse_host_port(std::string_view text, std::optional<uint16_t> default_port = std::nullopt);

// "5060" -> 5060; nullopt for anything but a decimal 1..65535.
std::optional<uint16_t> parse_port(std::string_view text);

// A port field of a parsed SIP header (Via sent-by, rport, URI port): `fallback` when absent,
// empty or not a port.
uint16_t port_or(const char* text, uint16_t fallback);

// The host as a URI or host:port writes it: IPv6 literals in brackets, anything else as it is.
std::string uri_host(const std::string& host);

bool is_ip_literal(const std::string& host);

}  // namespace b2bua::config
