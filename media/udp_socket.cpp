#include "media/udp_socket.h"

#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace b2bua::media {

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

void UdpSocket::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

UdpSocket UdpSocket::bind(const std::string& ip, uint16_t port, int dscp, std::string& error) {
  Endpoint local;
  if (!Endpoint::parse(ip, port, local)) {
    error = "not an IP address: " + ip;
    return {};
  }
  const int family = local.addr.ss_family;
  UdpSocket s(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!s.valid()) {
    error = std::string("socket: ") + std::strerror(errno);
    return {};
  }
  if (family == AF_INET6) {
    const int one = 1;
    setsockopt(s.fd(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  if (dscp >= 0) {
    // DSCP sits in the upper six bits of the TOS / traffic class octet (RFC 2474).
    const int tos = (dscp & 0x3f) << 2;
    if (family == AF_INET) {
      setsockopt(s.fd(), IPPROTO_IP, IP_TOS, &tos, sizeof tos);
    } else {
      setsockopt(s.fd(), IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
    }
  }
  if (::bind(s.fd(), reinterpret_cast<const sockaddr*>(&local.addr), local.len) != 0) {
    error = "bind " + local.to_string() + ": " + std::strerror(errno);
    return {};
  }
  return s;
}

}  // namespace b2bua::media
