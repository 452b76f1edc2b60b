#include "b2bua/daemon/wan_address_watch.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace b2bua::daemon {

WanAddressWatch::WanAddressWatch(std::string interface) : interface_(std::move(interface)) {
  fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd_ < 0) throw std::runtime_error(std::string("netlink socket: ") + std::strerror(errno));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  local.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_LINK | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
  if (::bind(fd_, static_cast<sockaddr*>(static_cast<void*>(&local)), sizeof local) != 0) {
    int err = errno;
    ::close(fd_);
    throw std::runtime_error(std::string("netlink bind: ") + std::strerror(err));
  }
  index_ = if_nametoindex(interface_.c_str());  // 0 until the interface exists (PPP comes later)
  was_running_ = running();
}

WanAddressWatch::~WanAddressWatch() {
  if (fd_ >= 0) ::close(fd_);
}

// The kernel's NLMSG_* macros are C and cast the old way.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
WanAddressWatch::Changes WanAddressWatch::drain() {
  Changes changes;
  alignas(nlmsghdr) char buf[8192];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    if (index_ == 0) index_ = if_nametoindex(interface_.c_str());
    auto len = static_cast<unsigned>(n);
    for (auto* h = static_cast<nlmsghdr*>(static_cast<void*>(buf)); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      switch (h->nlmsg_type) {
        case RTM_NEWADDR:
        case RTM_DELADDR:
          if (ours(static_cast<const ifaddrmsg*>(NLMSG_DATA(h))->ifa_index)) changes.address = true;
          break;
        case RTM_NEWLINK:
          if (ours(static_cast<unsigned>(static_cast<const ifinfomsg*>(NLMSG_DATA(h))->ifi_index))) {
            bool now = running();
            if (now && !was_running_) changes.usable = true;
            was_running_ = now;
          }
          break;
        case RTM_NEWROUTE:
          // A default route (any interface: a PPP link brings its own) is the way out appearing.
          if (static_cast<const rtmsg*>(NLMSG_DATA(h))->rtm_dst_len == 0) changes.usable = true;
          break;
        default:
          break;
      }
    }
  }
  return changes;
}
#pragma GCC diagnostic pop

bool WanAddressWatch::ours(unsigned index) {
  // A PPP interface that comes back gets a new index: compare by name too.
  char name[IF_NAMESIZE] = "";
  if (index != index_ && !(if_indextoname(index, name) && interface_ == name)) return false;
  index_ = index;
  return true;
}

bool WanAddressWatch::running() const {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool up = false;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (interface_ == i->ifa_name && (i->ifa_flags & IFF_UP) && (i->ifa_flags & IFF_RUNNING)) up = true;
  }
  freeifaddrs(list);
  return up;
}

std::optional<std::string> WanAddressWatch::current(int family) const {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::string> found;
  for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != family || interface_ != i->ifa_name) continue;
    char text[INET6_ADDRSTRLEN] = "";
    if (family == AF_INET) {
      const auto* sa = static_cast<const sockaddr_in*>(static_cast<const void*>(i->ifa_addr));
      inet_ntop(AF_INET, &sa->sin_addr, text, sizeof text);
    } else {
      const auto* sa = static_cast<const sockaddr_in6*>(static_cast<const void*>(i->ifa_addr));
      if (IN6_IS_ADDR_LINKLOCAL(&sa->sin6_addr)) continue;  // not reachable from the provider
      inet_ntop(AF_INET6, &sa->sin6_addr, text, sizeof text);
    }
    found = text;
  }
  freeifaddrs(list);
  return found;
}

}  // namespace b2bua::daemon
