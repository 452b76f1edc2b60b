#include "b2bua/status/nat_path.h"

#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <nlohmann/json.hpp>

#include "b2bua/status/snapshot_reader.h"
#include "b2bua/trunk/host_port.h"

namespace b2bua::status {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Traceroute's ports: nothing listens there, so the destination answers port-unreachable.
constexpr uint16_t kFirstPort = 33434;
constexpr const char kPayload[] = "b2bua nat path probe";

class Socket {
 public:
  Socket() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(Socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Socket& operator=(Socket&&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

sockaddr_in v4(const std::string& ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

std::string text_of(const in_addr& a) {
  char buf[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

// One probe's answer from the socket's error queue: the router that dropped it (time exceeded),
// or the target (port unreachable). Returns false while there is none.
bool read_answer(int fd, NatHop& hop) {
  char data[64];
  char control[512];
  sockaddr_in from{};
  iovec iov{data, sizeof data};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(fd, &msg, MSG_ERRQUEUE) < 0) {
    // No error queued: a service at that port answered, so the target was reached.
    if (::recv(fd, data, sizeof data, 0) >= 0) {
      hop.destination = true;
      return true;
    }
    return false;
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_IP || c->cmsg_type != IP_RECVERR) continue;
    auto* ee = reinterpret_cast<sock_extended_err*>(CMSG_DATA(c));
    if (ee->ee_origin != SO_EE_ORIGIN_ICMP) continue;
    auto* offender = reinterpret_cast<sockaddr_in*>(SO_EE_OFFENDER(ee));
    if (offender->sin_family == AF_INET) hop.address = text_of(offender->sin_addr);
    // Type 11 time exceeded: a router on the way. Type 3: unreachable; code 3 (port) comes from
    // the target, any other code from a router that cannot go on (the path ends there).
    hop.destination = ee->ee_type == 3 && ee->ee_code == 3;
    return true;
  }
  return false;
}

bool ends_path(const NatHop& hop) { return hop.destination || (!hop.address.empty() && !trunk::is_private_ip(hop.address)); }

}  // namespace

NatPath probe_nat_path(const std::string& source, const std::string& target, int max_hops,
                       std::chrono::milliseconds budget) {
  NatPath path;
  path.target = target;
  in_addr check{};
  if (::inet_pton(AF_INET, target.c_str(), &check) != 1) {
    path.error = "the trunk's server " + target + " is not an IPv4 address";
    return path;
  }
  std::vector<Socket> sockets;
  for (int ttl = 1; ttl <= max_hops; ++ttl) {
    Socket s;
    const int on = 1;
    if (s.fd() < 0 || ::setsockopt(s.fd(), SOL_IP, IP_RECVERR, &on, sizeof on) != 0 ||
        ::setsockopt(s.fd(), SOL_IP, IP_TTL, &ttl, sizeof ttl) != 0) {
      path.error = std::string("cannot open a probe socket: ") + std::strerror(errno);
      return path;
    }
    if (!source.empty()) {
      sockaddr_in local = v4(source, 0);
      // A wan.address that is gone (the interface changed it): the route's own address.
      (void)::bind(s.fd(), reinterpret_cast<sockaddr*>(&local), sizeof local);
    }
    sockaddr_in to = v4(target, static_cast<uint16_t>(kFirstPort + ttl - 1));
    if (::connect(s.fd(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      path.error = "no route to " + target + ": " + std::strerror(errno);
      return path;
    }
    if (path.source.empty()) {
      sockaddr_in local{};
      socklen_t len = sizeof local;
      if (::getsockname(s.fd(), reinterpret_cast<sockaddr*>(&local), &len) == 0) path.source = text_of(local.sin_addr);
    }
    (void)::send(s.fd(), kPayload, sizeof kPayload - 1, 0);
    path.hops.push_back({ttl, "", false});
    sockets.push_back(std::move(s));
  }
  std::vector<bool> answered(sockets.size(), false);
  const auto deadline = Clock::now() + budget;
  for (;;) {
    // Done once every hop up to a public router or the target has answered.
    size_t known = 0;
    while (known < answered.size() && answered[known] && !ends_path(path.hops[known])) ++known;
    if (known < answered.size() && answered[known]) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    std::vector<pollfd> fds;
    // Answered probes are left out (a negative fd is skipped by poll).
    for (size_t i = 0; i < sockets.size(); ++i) fds.push_back({answered[i] ? -1 : sockets[i].fd(), POLLIN | POLLERR, 0});
    if (::poll(fds.data(), fds.size(), static_cast<int>(left)) <= 0) continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!answered[i] && fds[i].revents && read_answer(fds[i].fd, path.hops[i])) answered[i] = true;
    }
  }
  // Beyond the first public router or the target nothing matters for NAT.
  auto end = std::find_if(path.hops.begin(), path.hops.end(), ends_path);
  if (end != path.hops.end()) path.hops.erase(end + 1, path.hops.end());
  return path;
}

NatLayout classify_nat_path(const NatPath& path, const std::string& wan_address, const std::string& public_address,
                            bool on_router) {
  NatLayout l;
  l.path = path;
  l.wan_address = wan_address;
  l.public_address = public_address;
  l.on_router = on_router;
  l.wan_private = trunk::is_private_ip(wan_address);
  for (const auto& hop : path.hops) {
    if (ends_path(hop)) break;
    if (hop.address.empty()) continue;  // a silent router: it may or may not be a NAT
    ++l.private_hops;
    unsigned char a[4];
    if (::inet_pton(AF_INET, hop.address.c_str(), a) == 1 && a[0] == 100 && (a[1] & 0xc0) == 64) l.carrier_nat = true;
  }
  // A private WAN address reaches the internet only through a NAT, seen on the path or not.
  l.nats = l.wan_private ? std::max(1, l.private_hops) : 0;
  l.household_nats = l.nats + (on_router ? 1 : 0);
  return l;
}

NatLayout find_nat_layout(const json& snapshot, const config::Config& config) {
  std::string server, public_address;
  for (const auto& t : list(snapshot, "trunks")) {
    if (text(t, "server").empty()) continue;
    server = text(t, "server");
    public_address = text(t, "public_address");
    break;
  }
  const bool on_router = !config.lan.networks.empty() && !config.lan.contains(config.wan.address);
  if (server.empty()) {
    NatPath none;
    none.error = "no trunk has reached its server yet";
    return classify_nat_path(none, config.wan.address, public_address, on_router);
  }
  auto hp = config::parse_host_port(server, 5060);
  NatPath path = probe_nat_path(config.wan.address, hp ? hp->host : server);
  if (auto pub = config::parse_host_port(public_address, 5060)) public_address = pub->host;
  return classify_nat_path(path, path.source.empty() ? config.wan.address : path.source, public_address, on_router);
}

}  // namespace b2bua::status
