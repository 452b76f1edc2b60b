#include "b2bua/trunk/host_port.h"

#include <arpa/inet.h>

#include <cstdlib>

namespace b2bua::trunk {

std::string HostPort::str() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool parse_host_port(const std::string& text, uint16_t default_port, HostPort& out) {
  std::string host = text, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos) return false;
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return false;
      port = text.substr(close + 2);
    }
  } else if (text.find(':') != std::string::npos && text.find(':') == text.rfind(':')) {
    host = text.substr(0, text.find(':'));
    port = text.substr(text.find(':') + 1);
  }
  if (host.empty()) return false;
  long p = default_port;
  if (!port.empty()) {
    char* end = nullptr;
    p = std::strtol(port.c_str(), &end, 10);
    if (*end || p <= 0 || p > 65535) return false;
  }
  out.host = host;
  out.port = static_cast<uint16_t>(p);
  return true;
}

bool is_private_ip(const std::string& ip) {
  unsigned char a[16];
  if (inet_pton(AF_INET, ip.c_str(), a) == 1) {
    return a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
           (a[0] == 100 && (a[1] & 0xc0) == 64) || (a[0] == 169 && a[1] == 254);
  }
  if (inet_pton(AF_INET6, ip.c_str(), a) == 1) {
    return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
  }
  return false;
}

}  // namespace b2bua::trunk
