#include "b2bua/trunk/server_resolver.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>

namespace b2bua::trunk {
namespace {

TEST(SipTarget, HostPortAndParams) {
  auto t = parse_sip_target("sip:4930@sip.example.net:5080;transport=udp");
  EXPECT_TRUE(t.ok);
  EXPECT_EQ(t.host, "sip.example.net");
  EXPECT_EQ(t.port, 5080);
  auto v6 = parse_sip_target("sip:[2001:db8::1]");
  EXPECT_TRUE(v6.ok);
  EXPECT_EQ(v6.host, "2001:db8::1");
  EXPECT_EQ(v6.port, 0) << "no port: SRV decides";
  EXPECT_FALSE(parse_sip_target("not a uri").ok);
}

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    su_init();
    root_ = su_root_create(nullptr);
    ASSERT_NE(root_, nullptr);
  }
  void TearDown() override {
    su_root_destroy(root_);
    su_deinit();
  }
  su_root_t* root_ = nullptr;
};

TEST_F(ResolverTest, IpLiteralsNeedNoDns) {
  ServerResolver resolver(root_, "/etc/resolv.conf");
  std::optional<Resolution> got;
  resolver.resolve(this, parse_sip_target("sip:192.0.2.10"), config::Transport::tls,
                   [&](const Resolution& r) { got = r; });
  ASSERT_TRUE(got) << "answered at once";
  ASSERT_EQ(got->servers.size(), 1u);
  EXPECT_EQ(got->servers[0].str(), "192.0.2.10:5061");
  EXPECT_EQ(got->ttl_s, 0u);
}

TEST_F(ResolverTest, UnresolvableNameIsAnErrorNotACrash) {
  ServerResolver resolver(root_, "/etc/resolv.conf");
  std::optional<Resolution> got;
  resolver.resolve(this, parse_sip_target("sip:no-such-host.invalid"), config::Transport::udp,
                   [&](const Resolution& r) { got = r; });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (!got && std::chrono::steady_clock::now() < deadline) su_root_step(root_, 100);
  ASSERT_TRUE(got) << "the resolver gives up within its own timeouts";
  EXPECT_TRUE(got->servers.empty());
  EXPECT_FALSE(got->error.empty());
}

TEST_F(ResolverTest, CancelledLookupNeverCallsBack) {
  bool called = false;
  {
    ServerResolver resolver(root_, "/etc/resolv.conf");
    resolver.resolve(this, parse_sip_target("sip:no-such-host.invalid:5060"), config::Transport::udp,
                     [&](const Resolution&) { called = true; });
    resolver.cancel(this);
    for (int i = 0; i < 5; ++i) su_root_step(root_, 10);
  }
  for (int i = 0; i < 5; ++i) su_root_step(root_, 10);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace b2bua::trunk
