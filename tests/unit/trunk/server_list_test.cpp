#include "b2bua/trunk/server_list.h"

#include <gtest/gtest.h>

#include <optional>

namespace b2bua::trunk {
namespace {

class ServerListTest : public ::testing::Test {
 protected:
  void SetUp() override {
    su_init();
    root_ = su_root_create(nullptr);
    ASSERT_NE(root_, nullptr);
    trunk_.name = "prov";
    trunk_.registrar = "sip:192.0.2.10";
    trunk_.backup_servers = {"sip:192.0.2.11:5080", "sip:192.0.2.10"};
  }
  void TearDown() override {
    su_root_destroy(root_);
    su_deinit();
  }
  su_root_t* root_ = nullptr;
  config::Trunk trunk_;
};

TEST_F(ServerListTest, ResolvesInOrderWithoutRepeatsAndFailsOverRoundTheList) {
  ServerResolver resolver(root_, "/etc/resolv.conf");
  std::optional<ServerList::Outcome> outcome;
  ServerList list(root_, resolver, trunk_, [&](ServerList::Outcome o, const std::string&) { outcome = o; });
  EXPECT_EQ(list.route(), "") << "nothing before the first lookup";
  list.resolve();
  ASSERT_EQ(outcome, ServerList::Outcome::fresh) << "IP literals answer at once";
  ASSERT_EQ(list.servers().size(), 2u) << "the registrar listed again as a backup is tried once";
  EXPECT_EQ(list.current()->str(), "192.0.2.10:5060");
  EXPECT_TRUE(list.on_first());
  EXPECT_TRUE(list.another_left());
  ASSERT_TRUE(list.fail_over());
  EXPECT_EQ(list.route(), "sip:192.0.2.11:5080");
  EXPECT_FALSE(list.another_left());
  ASSERT_TRUE(list.fail_over());
  EXPECT_TRUE(list.on_first()) << "after the last server, the first again";

  list.fail_over();
  list.resolve();
  EXPECT_EQ(outcome, ServerList::Outcome::kept) << "a new lookup keeps the server in use";
  EXPECT_EQ(list.current()->str(), "192.0.2.11:5080");
  list.fail_back();
  EXPECT_EQ(list.route(), list.route_to(0));
}

TEST_F(ServerListTest, RoutesNameTheTransport) {
  ServerResolver resolver(root_, "/etc/resolv.conf");
  trunk_.transport = config::Transport::tcp;
  trunk_.outbound_proxy = "sip:[2001:db8::5]:5070";
  ServerList list(root_, resolver, trunk_, [](ServerList::Outcome, const std::string&) {});
  list.resolve();
  EXPECT_EQ(list.route(), "sip:[2001:db8::5]:5070;transport=tcp") << "the outbound proxy goes first";
}

TEST_F(ServerListTest, NoUsableUriFails) {
  ServerResolver resolver(root_, "/etc/resolv.conf");
  trunk_.registrar = "nonsense";
  trunk_.backup_servers.clear();
  std::optional<ServerList::Outcome> outcome;
  ServerList list(root_, resolver, trunk_, [&](ServerList::Outcome o, const std::string&) { outcome = o; });
  list.resolve();
  EXPECT_EQ(outcome, ServerList::Outcome::failed);
  EXPECT_FALSE(list.current());
  EXPECT_FALSE(list.fail_over());
}

}  // namespace
}  // namespace b2bua::trunk
