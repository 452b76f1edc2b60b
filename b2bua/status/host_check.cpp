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

bool host_allowed(const char* host, const std::vector<std::string>& allowed_names) {
  if (!host) return true;
  auto hp = config::parse_host_port(host, 80);
  if (!hp || hp->host.empty()) return false;
  if (config::is_ip_literal(hp->host) || same_name(hp->host, "localhost")) return true;
  return std::any_of(allowed_names.begin(), allowed_names.end(),
                     [&](const std::string& name) { return same_name(hp->host, name); });
}

}  // namespace b2bua::status
