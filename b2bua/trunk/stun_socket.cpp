#include "b2bua/trunk/stun_socket.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "b2bua/trunk/wan_socket.h"

namespace b2bua::trunk {

StunSocket::StunSocket(su_root_t* root, Received received) : root_(root), received_(std::move(received)) {}

StunSocket::~StunSocket() { close(); }

void StunSocket::close() {
  if (index_ > 0) su_root_deregister(root_, index_);
  index_ = 0;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool StunSocket::open(const std::string& bind_address, std::string& error) {
  close();
  sockaddr_storage ss;
  socklen_t len = 0;
  if (!to_sockaddr(HostPort{bind_address, 0}, ss, len)) {
    error = "'" + bind_address + "' is not an IP address";
    return false;
  }
  fd_ = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || bind(fd_, static_cast<sockaddr*>(static_cast<void*>(&ss)), len) != 0) {
    error = std::string("cannot bind a UDP socket on ") + bind_address + ": " + std::strerror(errno);
    close();
    return false;
  }
  sockaddr_storage got;
  socklen_t got_len = sizeof got;
  getsockname(fd_, static_cast<sockaddr*>(static_cast<void*>(&got)), &got_len);
  port_ = ntohs(got.ss_family == AF_INET6 ? static_cast<sockaddr_in6*>(static_cast<void*>(&got))->sin6_port
                                          : static_cast<sockaddr_in*>(static_cast<void*>(&got))->sin_port);
  su_wait_t wait;
  if (su_wait_create(&wait, fd_, SU_WAIT_IN) != 0) {
    error = "cannot watch the UDP socket";
    close();
    return false;
  }
  index_ = su_root_register(root_, &wait, &StunSocket::readable, static_cast<su_wakeup_arg_t*>(static_cast<void*>(this)), 0);
  if (index_ <= 0) {
    su_wait_destroy(&wait);
    index_ = 0;
    error = "cannot watch the UDP socket";
    close();
    return false;
  }
  return true;
}

bool StunSocket::send(const HostPort& to, const std::vector<uint8_t>& message) {
  return send_datagram(fd_, to, static_cast<const char*>(static_cast<const void*>(message.data())), message.size());
}

int StunSocket::readable(su_root_magic_t*, su_wait_t*, su_wakeup_arg_t* arg) {
  auto* self = static_cast<StunSocket*>(static_cast<void*>(arg));
  uint8_t buf[1500];
  for (;;) {
    ssize_t n = recv(self->fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) break;
    if (auto r = parse_stun_response(buf, static_cast<size_t>(n))) self->received_(*r);
    if (self->fd_ < 0) break;
  }
  return 0;
}

}  // namespace b2bua::trunk
