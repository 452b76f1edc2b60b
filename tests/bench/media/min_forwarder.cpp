// The near-physical baseline: one thread, one epoll loop, recvmmsg/sendmmsg, socket pairs
// (P+2k, P+2k+1) relaying to each other's last seen source. No validation, no counters.
// Usage: min_forwarder <first port> <pairs> <pairs file to write>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

namespace {
struct Sock {
  int fd = -1;
  sockaddr_in peer{};
  bool known = false;
};
volatile std::sig_atomic_t stop = 0;
}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  const int first = std::atoi(argv[1]);
  const auto pairs = static_cast<size_t>(std::atol(argv[2]));
  std::signal(SIGTERM, [](int) { stop = 1; });
  std::signal(SIGINT, [](int) { stop = 1; });
  std::vector<Sock> socks(pairs * 2);
  const int ep = epoll_create1(0);
  for (size_t i = 0; i < socks.size(); ++i) {
    socks[i].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(first + static_cast<int>(i)));
    if (bind(socks[i].fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::perror("bind");
      return 1;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, socks[i].fd, &ev);
  }
  {
    std::ofstream out(argv[3]);
    for (size_t i = 0; i < socks.size(); ++i) out << first + static_cast<int>(i) << " " << first + static_cast<int>(i) << "\n";
  }
  constexpr size_t kBatch = 32;
  std::array<std::array<char, 2048>, kBatch> bufs{};
  std::array<mmsghdr, kBatch> rx{}, tx{};
  std::array<iovec, kBatch> riov{}, tiov{};
  std::array<sockaddr_in, kBatch> from{};
  std::array<epoll_event, 256> evs{};
  while (!stop) {
    const int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 200);
    for (int k = 0; k < n; ++k) {
      const size_t i = evs[static_cast<size_t>(k)].data.u64;
      Sock& in = socks[i];
      Sock& out = socks[i ^ 1];
      for (size_t j = 0; j < kBatch; ++j) {
        riov[j] = {bufs[j].data(), bufs[j].size()};
        rx[j].msg_hdr = {};
        rx[j].msg_hdr.msg_iov = &riov[j];
        rx[j].msg_hdr.msg_iovlen = 1;
        rx[j].msg_hdr.msg_name = &from[j];
        rx[j].msg_hdr.msg_namelen = sizeof from[j];
      }
      const int got = recvmmsg(in.fd, rx.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (got <= 0) continue;
      in.peer = from[static_cast<size_t>(got) - 1];
      in.known = true;
      if (!out.known) continue;
      for (size_t j = 0; j < static_cast<size_t>(got); ++j) {
        tiov[j] = {bufs[j].data(), rx[j].msg_len};
        tx[j].msg_hdr = {};
        tx[j].msg_hdr.msg_iov = &tiov[j];
        tx[j].msg_hdr.msg_iovlen = 1;
        tx[j].msg_hdr.msg_name = &out.peer;
        tx[j].msg_hdr.msg_namelen = sizeof out.peer;
      }
      sendmmsg(out.fd, tx.data(), static_cast<unsigned>(got), MSG_DONTWAIT);
    }
  }
  return 0;
}
