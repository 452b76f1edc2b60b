#include "b2bua/status/host_check.h"

#include <algorithm>
#include <cctype>

#include "b2bua/config/host_port.h"

namespace b2bua::status {
namespace {

bool same_name(const std::string& a, const std::string& b) {
  // Host names compare case-insensitively; a trailing dot names the same host.
  auto trim = [](std::string s) {
    if (!s.empty() && s.back() == '.') s.pop_back();
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  };
  return trim(a) == trim(b);
}

}  // namespace

bool same_origin(const char* origin, const char* host) {
  if (!origin) return true;
  if (!host) return false;
  std::string o(origin);
  uint16_t default_port = 0;
  if (o.rfind("http://", 0) == 0) {
    o.erase(0, 7);
    default_port = 80;
  } else if (o.rfind("https://", 0) == 0) {
    o.erase(0, 8);
    default_port = 443;
  } else {
    return false;  // "null" (sandboxed frames, file:), other schemes
  }
  if (o.empty() || o.find_first_of("/?#@") != std::string::npos) return false;  // an origin has no path
  auto from = config::parse_host_port(o, default_port);
  auto to = config::parse_host_port(host, default_port);
  return from && to && !from->host.empty() && from->port == to->port && same_name(from->host, to->host);
}

bool host_allowed(const char* host, const std::vector<std::string>& allowed_names) {
  if (!host) return true;
  auto hp = config::parse_host_port(host, 80);
  if (!hp || hp->host.empty()) return false;
  if (config::is_ip_literal(hp->host) || same_name(hp->host, "localhost")) return true;
  return std::any_of(allowed_names.begin(), allowed_names.end(),
                     [&](const std::string& name) { return same_name(hp->host, name); });
}

}  // namespace b2bua::status
