#include "b2bua/config/host_port.h"

#include <arpa/inet.h>

#include <charconv>

namespace b2bua::config {

std::string HostPort::str() const { return uri_host(host) + ":" + std::to_string(port); }

std::string uri_host(const std::string& host) {
  bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return v6 ? "[" + host + "]" : host;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::optional<uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

uint16_t port_or(const char* text, uint16_t fallback) {
  if (!text || !*text) return fallback;
  return parse_port(text).value_or(fallback);
}

std::optional<HostPort> parse_host_port(std::string_view text, std::optional<uint16_t> default_port) {
  std::string_view host = text;
  std::optional<std::string_view> port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return std::nullopt;
      port = text.substr(close + 2);
    }
  } else if (size_t colon = text.find(':'); colon != std::string_view::npos && colon == text.rfind(':')) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  // More than one colon without brackets: an IPv6 literal without a port.
  if (host.empty()) return std::nullopt;
  HostPort out{std::string(host), 0};
  if (port) {
    auto p = parse_port(*port);
    if (!p) return std::nullopt;
    out.port = *p;
  } else if (default_port) {
    out.port = *default_port;
  } else {
    return std::nullopt;
  }
  return out;
}

}  // namespace b2bua::config
