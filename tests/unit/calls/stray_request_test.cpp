// Requests for methods b2bua does not serve, out of any dialog, from a sender nobody
// authenticated: each gets a final answer, and nothing at all goes to the address the request
// names in its Contact. A SIP stack that accepts an out-of-dialog REFER with 202 NOTIFYs that
// Contact: a reflector anyone on the internet could aim at a third party. The requests are
// written by hand, as a scanner would send them (a SIP stack would put its own Contact in).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "sip_fixture.h"

namespace b2bua::testing {
namespace {

// A bare UDP socket on 127.0.0.1: sends what it is given, keeps what arrives.
class RawUdp {
 public:
  RawUdp() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port_ = ntohs(a.sin_port);
    }
  }
  ~RawUdp() { ::close(fd_); }
  RawUdp(const RawUdp&) = delete;
  RawUdp& operator=(const RawUdp&) = delete;

  uint16_t port() const { return port_; }
  void send_to(uint16_t port, const std::string& text) const {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    ::sendto(fd_, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  // Everything that arrived since the last call.
  std::vector<std::string> received() {
    std::vector<std::string> out;
    char buf[65536];
    for (ssize_t n; (n = ::recv(fd_, buf, sizeof buf, 0)) > 0;) out.emplace_back(buf, static_cast<size_t>(n));
    return out;
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

class StrayRequest : public ::testing::Test {
 protected:
  StrayRequest() {
    provider_ = std::make_unique<Provider>(loop_, "4930123456", "trunk-secret");
    nlohmann::json config = lan_config(lan_port_);
    with_trunk(config, wan_port_, provider_->port(), "4930123456", "trunk-secret");
    plane_ = std::make_unique<PlaneUnderTest>(loop_, config);
  }

  void SetUp() override {
    // A victim socket that failed to bind would receive nothing and pass the test silently.
    ASSERT_NE(stranger_.port(), 0);
    ASSERT_NE(victim_.port(), 0);
  }

  // `method` out of dialog to the agent on `port`, with the victim as Contact; returns the
  // status line of the final answer the stranger got ("" when none came).
  std::string send(uint16_t port, const std::string& method, const std::string& extra = "") {
    const std::string n = std::to_string(++sent_);
    const std::string uri = "sip:10@127.0.0.1:" + std::to_string(port);
    stranger_.send_to(port, method + " " + uri + " SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP 127.0.0.1:" + std::to_string(stranger_.port()) + ";branch=z9hG4bK-stray-" + n + ";rport\r\n"
                      "Max-Forwards: 70\r\n"
                      "From: <sip:scanner@127.0.0.1>;tag=stray" + n + "\r\n"
                      "To: <" + uri + ">\r\n"
                      "Call-ID: stray-" + n + "@127.0.0.1\r\n"
                      "CSeq: 1 " + method + "\r\n"
                      "Contact: <sip:victim@127.0.0.1:" + std::to_string(victim_.port()) + ">\r\n" +
                      extra + "Content-Length: 0\r\n\r\n");
    std::string final;
    loop_.run_until([&] {
      for (const auto& m : stranger_.received()) {
        if (m.rfind("SIP/2.0 1", 0) != 0) final = m.substr(0, m.find("\r\n"));
      }
      return !final.empty();
    });
    return final;
  }

  // Whatever b2bua would send on its own after answering comes within a few hundred ms.
  ::testing::AssertionResult victim_untouched() {
    loop_.run_for(500);
    auto got = victim_.received();
    if (got.empty()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "the named Contact received " << got.size() << " messages, first:\n"
                                         << got.front();
  }

  SipLoop loop_;
  const uint16_t lan_port_ = free_port();
  const uint16_t wan_port_ = free_port();
  std::unique_ptr<Provider> provider_;
  std::unique_ptr<PlaneUnderTest> plane_;
  RawUdp stranger_;
  RawUdp victim_;
  int sent_ = 0;
};

TEST_F(StrayRequest, ReferGets405AndNoNotifyOnBothSides) {
  for (uint16_t port : {lan_port_, wan_port_}) {
    EXPECT_EQ(send(port, "REFER", "Refer-To: <sip:0900123456@127.0.0.1>\r\n"), "SIP/2.0 405 Method Not Allowed")
        << "port " << port;
  }
  EXPECT_TRUE(victim_untouched());
}

TEST_F(StrayRequest, SubscribeNotifyMessageAndPublishGet405OnBothSides) {
  // Phones may SUBSCRIBE on the LAN, for message-summary only (RFC 3842): any other event
  // package is 489 Bad Event there (RFC 6665 7.2.2); the WAN side takes no SUBSCRIBE at all.
  EXPECT_EQ(send(lan_port_, "SUBSCRIBE", "Event: presence\r\n"), "SIP/2.0 489 Bad Event");
  EXPECT_EQ(send(wan_port_, "SUBSCRIBE", "Event: presence\r\n"), "SIP/2.0 405 Method Not Allowed");
  for (uint16_t port : {lan_port_, wan_port_}) {
    EXPECT_EQ(send(port, "NOTIFY", "Event: refer\r\nSubscription-State: active\r\n"), "SIP/2.0 405 Method Not Allowed")
        << port;
    EXPECT_EQ(send(port, "MESSAGE"), "SIP/2.0 405 Method Not Allowed") << port;
    EXPECT_EQ(send(port, "PUBLISH", "Event: presence\r\n"), "SIP/2.0 405 Method Not Allowed") << port;
  }
  EXPECT_TRUE(victim_untouched());
}

}  // namespace
}  // namespace b2bua::testing
