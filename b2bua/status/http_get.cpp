#include "b2bua/status/http_get.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "b2bua/config/host_port.h"

namespace b2bua::status {
namespace {

using Clock = std::chrono::steady_clock;

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

bool wait_for(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

bool resolve(const std::string& host, uint16_t port, sockaddr_storage& addr, socklen_t& len) {
  auto* v4 = static_cast<sockaddr_in*>(static_cast<void*>(&addr));
  auto* v6 = static_cast<sockaddr_in6*>(static_cast<void*>(&addr));
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof *v4;
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof *v6;
    return true;
  }
  return false;
}

HttpResponse failure(std::string why) {
  HttpResponse r;
  r.error = std::move(why);
  return r;
}

}  // namespace

HttpResponse http_get(const std::string& host, uint16_t port, const std::string& path,
                      const std::optional<std::string>& bearer_token, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::string where = config::HostPort{host, port}.str();
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (!resolve(host, port, addr, len)) return failure("'" + host + "' is not an IP address");
  Socket s(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (s.fd() < 0) return failure(std::string("socket: ") + std::strerror(errno));

  if (::connect(s.fd(), static_cast<sockaddr*>(static_cast<void*>(&addr)), len) != 0) {
    if (errno != EINPROGRESS) return failure("cannot connect to " + where + ": " + std::strerror(errno));
    if (!wait_for(s.fd(), POLLOUT, deadline)) return failure("timed out connecting to " + where);
    int err = 0;
    socklen_t err_len = sizeof err;
    getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &err_len);
    if (err != 0) return failure("cannot connect to " + where + ": " + std::strerror(err));
  }

  std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + where + "\r\nAccept: application/json\r\n";
  if (bearer_token) request += "Authorization: Bearer " + *bearer_token + "\r\n";
  request += "Connection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    if (!wait_for(s.fd(), POLLOUT, deadline)) return failure("timed out sending to " + where);
    ssize_t n = ::send(s.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return failure(std::string("send: ") + std::strerror(errno));
    if (n > 0) sent += static_cast<size_t>(n);
  }

  // HTTP/1.0: the server closes the connection after the response.
  std::string raw;
  char buf[16384];
  for (;;) {
    if (!wait_for(s.fd(), POLLIN, deadline)) return failure("timed out reading from " + where);
    ssize_t n = ::recv(s.fd(), buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return failure(std::string("recv: ") + std::strerror(errno));
    }
    raw.append(buf, static_cast<size_t>(n));
    if (raw.size() > (64u << 20)) return failure("response from " + where + " is too large");
  }

  HttpResponse r;
  auto head_end = raw.find("\r\n\r\n");
  if (raw.compare(0, 5, "HTTP/") != 0 || head_end == std::string::npos) return failure("not an HTTP response from " + where);
  auto space = raw.find(' ');
  r.code = std::atoi(raw.c_str() + space + 1);
  r.body = raw.substr(head_end + 4);
  return r;
}

}  // namespace b2bua::status
