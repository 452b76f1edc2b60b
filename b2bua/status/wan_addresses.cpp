#include "b2bua/status/wan_addresses.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>

#include "media/unique_fd.h"

namespace b2bua::status {
namespace {

std::optional<std::string> text_of(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    if (!inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf)) return std::nullopt;
    return std::string(buf);
  }
  if (sa->sa_family == AF_INET6) {
    const auto* a6 = reinterpret_cast<const sockaddr_in6*>(sa);
    if (IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr)) return std::nullopt;
    if (!inet_ntop(AF_INET6, &a6->sin6_addr, buf, sizeof buf)) return std::nullopt;
    return std::string(buf);
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string> interface_addresses(const std::string& name) {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> owned(list, &::freeifaddrs);
  for (const ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || !i->ifa_name || name != i->ifa_name) continue;
    if (auto a = text_of(i->ifa_addr)) out.push_back(*a);
  }
  return out;
}

std::optional<std::string> route_source(const std::string& ip) {
  sockaddr_storage to{};
  socklen_t to_len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&to);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&to);
  if (::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(9);  // connect() on UDP only picks the route; no datagram leaves
    to_len = sizeof *v4;
  } else if (::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(9);
    to_len = sizeof *v6;
  } else {
    return std::nullopt;
  }
  media::UniqueFd s(::socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid() || ::connect(s.get(), reinterpret_cast<const sockaddr*>(&to), to_len) != 0) return std::nullopt;
  sockaddr_storage from{};
  socklen_t from_len = sizeof from;
  if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&from), &from_len) != 0) return std::nullopt;
  return text_of(reinterpret_cast<const sockaddr*>(&from));
}

}  // namespace b2bua::status
