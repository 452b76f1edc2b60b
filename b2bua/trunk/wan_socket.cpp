#include "b2bua/trunk/wan_socket.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace b2bua::trunk {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};

}  // namespace

bool to_sockaddr(const HostPort& hp, sockaddr_storage& ss, socklen_t& len) {
  std::memset(&ss, 0, sizeof ss);
  auto* v4 = static_cast<sockaddr_in*>(static_cast<void*>(&ss));
  auto* v6 = static_cast<sockaddr_in6*>(static_cast<void*>(&ss));
  if (inet_pton(AF_INET, hp.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(hp.port);
    len = sizeof(sockaddr_in);
    return true;
  }
  if (inet_pton(AF_INET6, hp.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(hp.port);
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

int find_bound_udp_socket(const HostPort& local) {
  sockaddr_storage want;
  socklen_t want_len = 0;
  if (!to_sockaddr(local, want, want_len)) return -1;
  std::unique_ptr<DIR, DirCloser> dir(opendir("/proc/self/fd"));
  if (!dir) return -1;
  while (dirent* e = readdir(dir.get())) {
    char* end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (*end || end == e->d_name) continue;
    int sock = static_cast<int>(fd);
    struct stat st;
    if (fstat(sock, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    int type = 0;
    socklen_t tl = sizeof type;
    if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_DGRAM) continue;
    sockaddr_storage got;
    socklen_t got_len = sizeof got;
    if (getsockname(sock, static_cast<sockaddr*>(static_cast<void*>(&got)), &got_len) != 0) continue;
    if (got_len == want_len && std::memcmp(&got, &want, want_len) == 0) return sock;
  }
  return -1;
}

bool send_datagram(int fd, const HostPort& to, const char* data, size_t size) {
  sockaddr_storage ss;
  socklen_t len = 0;
  if (fd < 0 || !to_sockaddr(to, ss, len)) return false;
  ssize_t n = sendto(fd, data, size, MSG_DONTWAIT, static_cast<const sockaddr*>(static_cast<const void*>(&ss)), len);
  return n == static_cast<ssize_t>(size);
}

}  // namespace b2bua::trunk
