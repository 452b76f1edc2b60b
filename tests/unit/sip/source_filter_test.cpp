// The kernel source filter against real sockets on loopback: what it lets in, what it drops,
// and that the drops are counted.
#include "b2bua/sip/source_filter.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "b2bua/config/network.h"

namespace b2bua::sip {
namespace {

class Socket {
 public:
  Socket(int family, const char* ip) : fd_(socket(family, SOCK_DGRAM, 0)) {
    EXPECT_GE(fd_, 0);
    sockaddr_storage a{};
    socklen_t len = 0;
    if (family == AF_INET) {
      auto& v4 = reinterpret_cast<sockaddr_in&>(a);
      v4.sin_family = AF_INET;
      inet_pton(AF_INET, ip, &v4.sin_addr);
      len = sizeof v4;
    } else {
      auto& v6 = reinterpret_cast<sockaddr_in6&>(a);
      v6.sin6_family = AF_INET6;
      inet_pton(AF_INET6, ip, &v6.sin6_addr);
      len = sizeof v6;
    }
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), len), 0) << ip;
    address_len_ = sizeof address_;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address_), &address_len_);
  }
  ~Socket() { close(fd_); }
  int fd() const { return fd_; }
  void send_to(const Socket& other) const {
    sendto(fd_, "x", 1, 0, reinterpret_cast<const sockaddr*>(&other.address_), other.address_len_);
  }
  bool received() const {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 200) != 1) return false;
    char buf[16];
    return recv(fd_, buf, sizeof buf, 0) == 1;
  }

 private:
  int fd_;
  sockaddr_storage address_{};
  socklen_t address_len_ = 0;
};

config::Network net(const std::string& text) {
  config::Network n;
  EXPECT_TRUE(config::parse_network(text, n)) << text;
  return n;
}

TEST(SourceFilter, LetsInOnlyListedAddressesAndCountsTheRest) {
  Socket receiver(AF_INET, "127.0.0.1"), server(AF_INET, "127.0.0.2"), stranger(AF_INET, "127.0.0.3");
  std::string why;
  ASSERT_TRUE(attach_source_filter(receiver.fd(), {net("127.0.0.2")}, why)) << why;
  server.send_to(receiver);
  EXPECT_TRUE(receiver.received());
  stranger.send_to(receiver);
  stranger.send_to(receiver);
  EXPECT_FALSE(receiver.received());
  EXPECT_EQ(dropped_packets(receiver.fd()), 2u);
}

TEST(SourceFilter, NetworksMatchByPrefix) {
  Socket receiver(AF_INET, "127.0.0.1"), inside(AF_INET, "127.0.3.9"), outside(AF_INET, "127.0.4.9");
  std::string why;
  ASSERT_TRUE(attach_source_filter(receiver.fd(), {net("10.0.0.0/8"), net("127.0.3.0/24")}, why)) << why;
  inside.send_to(receiver);
  EXPECT_TRUE(receiver.received());
  outside.send_to(receiver);
  EXPECT_FALSE(receiver.received());
}

TEST(SourceFilter, AnEmptyListDropsEverythingAndDetachingLetsEverythingIn) {
  Socket receiver(AF_INET, "127.0.0.1"), peer(AF_INET, "127.0.0.2");
  std::string why;
  ASSERT_TRUE(attach_source_filter(receiver.fd(), std::vector<config::Network>{}, why)) << why;
  peer.send_to(receiver);
  EXPECT_FALSE(receiver.received());
  detach_source_filter(receiver.fd());
  peer.send_to(receiver);
  EXPECT_TRUE(receiver.received());
}

TEST(SourceFilter, Ipv6PacketsAreCheckedAgainstIpv6Networks) {
  Socket receiver(AF_INET6, "::1"), peer(AF_INET6, "::1");
  std::string why;
  ASSERT_TRUE(attach_source_filter(receiver.fd(), {net("127.0.0.1")}, why)) << why;
  peer.send_to(receiver);
  EXPECT_FALSE(receiver.received()) << "an IPv4 network must not let ::1 in";
  ASSERT_TRUE(attach_source_filter(receiver.fd(), {net("127.0.0.1"), net("::1")}, why)) << why;
  peer.send_to(receiver);
  EXPECT_TRUE(receiver.received());
  ASSERT_TRUE(attach_source_filter(receiver.fd(), {net("::/1")}, why)) << why;
  peer.send_to(receiver);
  EXPECT_TRUE(receiver.received()) << "::1 is inside ::/1";
  ASSERT_TRUE(attach_source_filter(receiver.fd(), {net("fd00::/8")}, why)) << why;
  peer.send_to(receiver);
  EXPECT_FALSE(receiver.received());
}

TEST(SourceFilter, DeniedSourcesAreDroppedAndTheRestLetIn) {
  Socket receiver(AF_INET, "127.0.0.1"), flooder(AF_INET, "127.0.0.7"), phone(AF_INET, "127.0.0.8");
  std::string why;
  ASSERT_TRUE(attach_source_filter(receiver.fd(), SourceRules{{net("127.0.0.7")}, std::nullopt}, why)) << why;
  flooder.send_to(receiver);
  EXPECT_FALSE(receiver.received());
  phone.send_to(receiver);
  EXPECT_TRUE(receiver.received());
  // Denied wins over allowed: a registered phone that floods is dropped too.
  ASSERT_TRUE(attach_source_filter(receiver.fd(), SourceRules{{net("127.0.0.7")}, std::vector{net("127.0.0.0/24")}}, why));
  flooder.send_to(receiver);
  EXPECT_FALSE(receiver.received());
  phone.send_to(receiver);
  EXPECT_TRUE(receiver.received());
}

}  // namespace
}  // namespace b2bua::sip
