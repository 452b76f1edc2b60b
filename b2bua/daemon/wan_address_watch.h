// Following the WAN interface's address when b2bua runs on the router itself.
//
// An ISP reconnect gives the router a new public address. Sockets bound to the old one (and
// ours are bound explicitly: a wildcard-bound socket lets MASQUERADE remap the source port) can
// no longer send, so the WAN side must be rebuilt on the new address at once, not after a
// keep-alive times out. The kernel announces address changes on a netlink socket
// (RTMGRP_IPV4_IFADDR / RTMGRP_IPV6_IFADDR); this class owns that socket and answers which
// address the interface has now.
//
// It also hears the link and the routes (RTMGRP_LINK, RTMGRP_IPV4_ROUTE / _IPV6_ROUTE): a router
// boots b2bua before its WAN link is up or has a default route, and a cable is pulled and put
// back. Trunks that failed meanwhile sit in their backoff, up to minutes; the moment the link
// comes up or a default route appears they should register, not when the backoff ends.
#pragma once

#include <optional>
#include <string>

namespace b2bua::daemon {

class WanAddressWatch {
 public:
  // Throws std::runtime_error when the netlink socket cannot be opened.
  explicit WanAddressWatch(std::string interface);
  ~WanAddressWatch();
  WanAddressWatch(const WanAddressWatch&) = delete;
  WanAddressWatch& operator=(const WanAddressWatch&) = delete;

  struct Changes {
    bool address = false;  // our interface gained or lost an address
    bool usable = false;   // our interface came up (running), or a default route appeared
  };

  // Readable when the kernel reported an address, link or route change on any interface.
  int fd() const { return fd_; }
  // Reads the pending notifications: what concerned us.
  Changes drain();
  // The interface exists and is up and running (carrier), so packets can leave through it.
  bool running() const;
  // The interface's first global address of `family` (AF_INET or AF_INET6), if it has one.
  std::optional<std::string> current(int family) const;
  const std::string& interface() const { return interface_; }

 private:
  std::string interface_;
  bool ours(unsigned index);

  unsigned index_ = 0;
  int fd_ = -1;
  bool was_running_ = false;
};

}  // namespace b2bua::daemon
