#include "b2bua/trunk/host_port.h"

#include <arpa/inet.h>

namespace b2bua::trunk {

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

std::string via_sent_by_host(const std::optional<std::string>& configured_public, const std::string& bind) {
  if (configured_public && !configured_public->empty()) return *configured_public;
  return is_private_ip(bind) ? kUnknownPublicHost : bind;
}

}  // namespace b2bua::trunk
