#include "b2bua/sip/own_sockets.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/tcp.h>  // the kernel's tcp_info: glibc's lacks tcpi_bytes_received
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace b2bua::sip {
namespace {

constexpr uint8_t kEstablished = 1;  // TCP_ESTABLISHED (the kernel's tcp_states.h)

int socket_option(int fd, int level, int name) {
  int value = 0;
  socklen_t len = sizeof value;
  return getsockopt(fd, level, name, &value, &len) == 0 ? value : -1;
}

uint16_t port_of(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
  return 0;
}

bool wildcard(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr == htonl(INADDR_ANY);
  if (a.ss_family == AF_INET6) {
    const auto& ip = reinterpret_cast<const sockaddr_in6&>(a).sin6_addr;
    return std::memcmp(&ip, &in6addr_any, sizeof ip) == 0;
  }
  return false;
}

std::string ip_of(const sockaddr_storage& a) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (a.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a).sin_addr, buf, sizeof buf);
  } else if (a.ss_family == AF_INET6) {
    const auto& ip = reinterpret_cast<const sockaddr_in6&>(a).sin6_addr;
    // An IPv4 peer on a dual-stack socket counts as that IPv4 address (one source, one limit).
    if (IN6_IS_ADDR_V4MAPPED(&ip)) inet_ntop(AF_INET, &ip.s6_addr[12], buf, sizeof buf);
    else inet_ntop(AF_INET6, &ip, buf, sizeof buf);
  }
  return buf;
}

// Every socket descriptor of this process, with a callback per socket and its SO_TYPE.
template <typename Fn>
void for_each_socket(Fn&& fn) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return;
  int own = dirfd(dir);
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == own) continue;
    struct stat st{};
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    fn(static_cast<int>(fd), socket_option(static_cast<int>(fd), SOL_SOCKET, SO_TYPE));
  }
  closedir(dir);
}

bool local_address(int fd, sockaddr_storage& a) {
  socklen_t len = sizeof a;
  return getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0 &&
         (a.ss_family == AF_INET || a.ss_family == AF_INET6);
}

}  // namespace

bool LocalAddress::operator==(const LocalAddress& other) const {
  if (address.ss_family != other.address.ss_family || port_of(address) != port_of(other.address)) return false;
  return ip_of(address) == ip_of(other.address);
}

uint16_t port_of(const LocalAddress& a) { return port_of(a.address); }

std::vector<OwnSocket> receiving_sockets() {
  std::vector<OwnSocket> out;
  for_each_socket([&](int fd, int type) {
    if (type == SOCK_STREAM && socket_option(fd, SOL_SOCKET, SO_ACCEPTCONN) != 1) return;
    if (type != SOCK_STREAM && type != SOCK_DGRAM) return;
    OwnSocket s{fd, type, {}};
    if (local_address(fd, s.local.address) && port_of(s.local.address) != 0) out.push_back(s);
  });
  return out;
}

std::vector<StreamConnection> accepted_connections(const std::vector<LocalAddress>& listeners) {
  std::vector<StreamConnection> out;
  if (listeners.empty()) return out;
  for_each_socket([&](int fd, int type) {
    if (type != SOCK_STREAM || socket_option(fd, SOL_SOCKET, SO_ACCEPTCONN) != 0) return;
    sockaddr_storage local{};
    if (!local_address(fd, local)) return;
    bool ours = false;
    for (const auto& l : listeners) {
      if (port_of(l.address) != port_of(local)) continue;
      if (wildcard(l.address) || ip_of(l.address) == ip_of(local)) ours = true;
    }
    if (!ours) return;
    tcp_info info{};
    socklen_t len = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return;
    // Connections already ending (ours shut down, or the peer's close that sofia has not read
    // yet) are sofia's to release; only live ones count.
    if (info.tcpi_state != kEstablished) return;
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) return;
    StreamConnection c;
    c.fd = fd;
    c.peer = ip_of(peer);
    c.quiet_ms = info.tcpi_last_data_recv;
    c.peer_port = port_of(peer);
    bool complete = len >= offsetof(tcp_info, tcpi_bytes_sent) + sizeof info.tcpi_bytes_sent;  // kernel >= 4.19
    c.bytes_received = complete ? info.tcpi_bytes_received : 1;
    c.bytes_sent = complete ? info.tcpi_bytes_sent : 0;
    out.push_back(std::move(c));
  });
  return out;
}

void end_connection(int fd) { shutdown(fd, SHUT_RDWR); }

}  // namespace b2bua::sip
