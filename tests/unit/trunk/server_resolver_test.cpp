#include "b2bua/trunk/server_resolver.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>

#include "b2bua/trunk/server_list.h"
#include "dns_test_server.h"

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

using Clock = std::chrono::steady_clock;

// The resolver against a DNS server of the test, named by a resolv.conf of the test (with the
// "port N" line wan.resolv_conf files may carry); a hosts file of the test through CARES_HOSTS.
class DnsResolverTest : public ResolverTest {
 protected:
  void SetUp() override {
    ResolverTest::SetUp();
    ASSERT_NE(dns_.port(), 0) << "the test's DNS server could not bind";
    char tmpl[] = "/tmp/b2bua-resolver-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    write_resolv_conf(dns_.port());
    write_file("hosts", "");
    setenv("CARES_HOSTS", (dir_ + "/hosts").c_str(), 1);
  }
  void TearDown() override {
    unsetenv("CARES_HOSTS");
    for (const char* f : {"resolv.conf", "hosts"}) unlink((dir_ + "/" + f).c_str());
    rmdir(dir_.c_str());
    ResolverTest::TearDown();
  }
  void write_file(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  void write_resolv_conf(uint16_t port) {
    write_file("resolv.conf", "nameserver 127.0.0.1\nport " + std::to_string(port) + "\n");
  }
  std::string resolv_conf() const { return dir_ + "/resolv.conf"; }

  // Runs the reactor until the lookup answers (or `bound` passes); how long it took.
  std::optional<Resolution> resolve(ServerResolver& resolver, const std::string& uri,
                                    config::Transport transport = config::Transport::udp,
                                    std::chrono::milliseconds bound = std::chrono::seconds(10)) {
    std::optional<Resolution> got;
    auto start = Clock::now();
    resolver.resolve(this, parse_sip_target(uri), transport, [&](const Resolution& r) { got = r; });
    while (!got && Clock::now() - start < bound) su_root_step(root_, 20);
    took_ = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    return got;
  }

  testing::DnsTestServer dns_;
  std::string dir_;
  std::chrono::milliseconds took_{0};
};

std::string list(const Resolution& r) {
  std::string out;
  for (const auto& s : r.servers) out += (out.empty() ? "" : ",") + s.str();
  return out;
}

TEST_F(DnsResolverTest, SrvTargetsByPriorityThenTheirAddresses) {
  dns_.srv("_sip._udp.prov.test", {20, 0, 5070, "b.prov.test"}, 600);
  dns_.srv("_sip._udp.prov.test", {10, 0, 5080, "a.prov.test"}, 600);
  dns_.a("a.prov.test", "127.0.0.11", 120);
  dns_.a("a.prov.test", "127.0.0.12", 120);
  dns_.a("b.prov.test", "127.0.0.13", 900);
  dns_.a("prov.test", "127.0.0.99");  // the host's own record: not used when SRV answers
  ServerResolver resolver(root_, resolv_conf());
  auto r = resolve(resolver, "sip:prov.test");
  ASSERT_TRUE(r);
  EXPECT_EQ(list(*r), "127.0.0.11:5080,127.0.0.12:5080,127.0.0.13:5070");
  EXPECT_EQ(r->ttl_s, 120u) << "the shortest TTL of SRV and A records";
  EXPECT_TRUE(r->error.empty());
}

TEST_F(DnsResolverTest, NoSrvRecordMeansTheHostOnTheDefaultPort) {
  dns_.a("prov.test", "127.0.0.21", 5);
  ServerResolver resolver(root_, resolv_conf());
  auto r = resolve(resolver, "sip:prov.test", config::Transport::tls);
  ASSERT_TRUE(r);
  EXPECT_EQ(list(*r), "127.0.0.21:5061");
  EXPECT_EQ(r->ttl_s, 30u) << "a TTL below the minimum is raised to it";
  auto explicit_port = resolve(resolver, "sip:prov.test:5090");
  ASSERT_TRUE(explicit_port);
  EXPECT_EQ(list(*explicit_port), "127.0.0.21:5090") << "a port given: no SRV";
}

TEST_F(DnsResolverTest, MissingNameIsNotFoundNotATimeout) {
  ServerResolver resolver(root_, resolv_conf());
  auto r = resolve(resolver, "sip:nowhere.test");
  ASSERT_TRUE(r);
  EXPECT_LT(took_, std::chrono::seconds(1));
  EXPECT_TRUE(r->servers.empty());
  EXPECT_EQ(r->error, "no address found for nowhere.test");
  EXPECT_FALSE(r->unanswered);
  EXPECT_EQ(r->ttl_s, 300u) << "looked up again after the unknown TTL";
}

TEST_F(DnsResolverTest, SilentServerFailsWithinSecondsAndNamesTheServer) {
  dns_.a("prov.test", "127.0.0.31");
  dns_.silent(true);
  ServerResolver resolver(root_, resolv_conf());
  auto r = resolve(resolver, "sip:prov.test");
  ASSERT_TRUE(r) << "no answer within " << took_.count() << " ms";
  std::string server = "127.0.0.1:" + std::to_string(dns_.port());
  EXPECT_LT(took_, std::chrono::seconds(5));
  EXPECT_GE(took_, std::chrono::milliseconds(2500)) << "1 s, then 2 s for the second try";
  EXPECT_TRUE(r->unanswered);
  EXPECT_EQ(r->dns_servers, server);
  EXPECT_EQ(r->error, "no answer from " + server + " for prov.test");
  EXPECT_GE(dns_.queries(), 4u) << "SRV and A, each tried twice";
  std::cout << "silent DNS server: failed after " << took_.count() << " ms\n";

  // The server answers again: the next lookup finds the name.
  dns_.silent(false);
  auto again = resolve(resolver, "sip:prov.test");
  ASSERT_TRUE(again);
  EXPECT_EQ(list(*again), "127.0.0.31:5060");
  EXPECT_FALSE(again->unanswered);
}

TEST_F(DnsResolverTest, HostsFileFirstThenDns) {
  write_file("hosts", "127.0.0.41 only-in-hosts.test\n127.0.0.42 both.test\n");
  dns_.a("both.test", "127.0.0.43");
  ServerResolver resolver(root_, resolv_conf());
  std::optional<Resolution> at_once;
  resolver.resolve(this, parse_sip_target("sip:only-in-hosts.test:5060"), config::Transport::udp,
                   [&](const Resolution& r) { at_once = r; });
  ASSERT_TRUE(at_once) << "a port given and the name in the hosts file: answered inside resolve()";
  EXPECT_EQ(list(*at_once), "127.0.0.41:5060");
  EXPECT_EQ(dns_.queries(), 0u);
  auto both = resolve(resolver, "sip:both.test:5060");
  ASSERT_TRUE(both);
  EXPECT_EQ(list(*both), "127.0.0.42:5060") << "the hosts file wins, as with nsswitch 'files dns'";
}

TEST_F(DnsResolverTest, SrvTargetOnlyInTheHostsFile) {
  write_file("hosts", "127.0.0.51 edge.prov.test\n");
  dns_.srv("_sip._udp.prov.test", {10, 0, 5062, "edge.prov.test"});
  ServerResolver resolver(root_, resolv_conf());
  auto r = resolve(resolver, "sip:prov.test");
  ASSERT_TRUE(r);
  EXPECT_EQ(list(*r), "127.0.0.51:5062");
}

TEST_F(DnsResolverTest, HostsFileAnswersWhileTheDnsServerIsSilent) {
  write_file("hosts", "127.0.0.61 prov.test\n");
  dns_.silent(true);
  ServerResolver resolver(root_, resolv_conf());
  auto r = resolve(resolver, "sip:prov.test");
  ASSERT_TRUE(r);
  EXPECT_EQ(list(*r), "127.0.0.61:5060") << "the SRV query went unanswered: the host itself";
  EXPECT_LT(took_, std::chrono::seconds(5));
}

TEST_F(DnsResolverTest, ResolvConfReadAgainWhenItChanges) {
  testing::DnsTestServer other;
  ASSERT_NE(other.port(), 0);
  other.a("prov.test", "127.0.0.71");
  dns_.a("prov.test", "127.0.0.72");
  ServerResolver resolver(root_, resolv_conf());
  auto first = resolve(resolver, "sip:prov.test:5060");
  ASSERT_TRUE(first);
  EXPECT_EQ(list(*first), "127.0.0.72:5060");
  write_resolv_conf(other.port());
  struct timespec later[2] = {{0, UTIME_OMIT}, {time(nullptr) + 5, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, resolv_conf().c_str(), later, 0), 0);
  auto second = resolve(resolver, "sip:prov.test:5060");
  ASSERT_TRUE(second);
  EXPECT_EQ(list(*second), "127.0.0.71:5060");
}

TEST_F(DnsResolverTest, ServerListReportsUnansweredNamesApart) {
  dns_.silent(true);
  write_file("hosts", "127.0.0.81 backup.test\n");
  config::Trunk trunk;
  trunk.name = "prov";
  trunk.registrar = "sip:prov.test";
  trunk.backup_servers = {"sip:backup.test:5070"};
  ServerResolver resolver(root_, resolv_conf());
  std::optional<ServerList::Outcome> outcome;
  ServerList servers(root_, resolver, trunk, [&](ServerList::Outcome o, const std::string&) { outcome = o; });
  servers.resolve();
  auto start = Clock::now();
  while (!outcome && Clock::now() - start < std::chrono::seconds(10)) su_root_step(root_, 20);
  ASSERT_EQ(outcome, ServerList::Outcome::fresh) << "the backup from the hosts file";
  ASSERT_EQ(servers.unanswered().size(), 1u);
  EXPECT_EQ(servers.unanswered()[0].name, "prov.test");
  EXPECT_EQ(servers.unanswered()[0].dns_servers, "127.0.0.1:" + std::to_string(dns_.port()));
  EXPECT_EQ(servers.current()->str(), "127.0.0.81:5070");
}

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
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
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
