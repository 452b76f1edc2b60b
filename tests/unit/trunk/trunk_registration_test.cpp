// A trunk's registration state machine as the status snapshot shows it (describe()["trunks"]),
// against an in-process provider (tests/unit/calls/sip_fixture.h).
#include <gtest/gtest.h>

#include <ctime>

#include "sip_fixture.h"

namespace b2bua::testing {
namespace {

constexpr const char* kUser = "4930123456";
constexpr const char* kPassword = "trunk-secret";

class TrunkRegistration : public ::testing::Test {
 protected:
  // The plane with one trunk registering at `server_port`.
  void start(uint16_t server_port, const std::string& password = kPassword) {
    nlohmann::json config = lan_config(free_port());
    with_trunk(config, free_port(), server_port, kUser, password);
    plane_ = std::make_unique<PlaneUnderTest>(loop_, config);
  }

  nlohmann::json trunk() const { return plane_->trunk("provider"); }
  std::string state() const { return trunk().value("state", "(none)"); }
  bool run_until(const std::function<bool()>& done, unsigned bound_ms = 3000) { return loop_.run_until(done, bound_ms); }
  std::string trace() const { return (provider_ ? provider_->trace() : std::string()) + "\n" + trunk().dump(); }

  SipLoop loop_;
  std::unique_ptr<Provider> provider_;
  std::unique_ptr<PlaneUnderTest> plane_;  // last: stops first, while the provider still answers
};

// registering -> 401 with a nonce -> REGISTER with our digest answer -> 200: registered, with
// the provider's expiry and our Contact.
TEST_F(TrunkRegistration, ChallengeThenRegistered) {
  provider_ = std::make_unique<Provider>(loop_, kUser, kPassword);
  start(provider_->port());
  EXPECT_EQ(state(), "registering");
  ASSERT_TRUE(run_until([&] { return state() != "registering"; })) << trace();

  EXPECT_EQ(state(), "registered") << trace();
  auto t = trunk();
  EXPECT_EQ(t["last_status"], 200);
  EXPECT_EQ(t["server"], provider_->host_port());
  const int64_t until = t["registered_until"].get<int64_t>() - static_cast<int64_t>(std::time(nullptr));
  EXPECT_GE(until, 595);
  EXPECT_LE(until, 600);
  auto registers = provider_->registers();
  ASSERT_EQ(registers.size(), 2u) << trace();
  EXPECT_FALSE(registers[0]->has_authorization);
  EXPECT_TRUE(registers[1]->has_authorization);
  EXPECT_EQ(registers[0]->call_id, registers[1]->call_id) << "the answer goes in the challenged registration";
  const std::string contact = t["contact"].get<std::string>();
  EXPECT_EQ(contact.rfind("<sip:b2t", 0), 0u) << contact;
  EXPECT_NE(registers[1]->text.find("\r\nContact: " + contact), std::string::npos) << registers[1]->text;
}

// 403 to the REGISTER: auth_failed at once, and no hammering (the next try is
// retry.auth_failed = 30 s away).
TEST_F(TrunkRegistration, ForbiddenGivesAuthFailed) {
  provider_ = std::make_unique<Provider>(loop_, kUser, kPassword);
  provider_->on_register = Provider::OnRegister::forbid;
  start(provider_->port());
  ASSERT_TRUE(run_until([&] { return state() != "registering"; })) << trace();

  EXPECT_EQ(state(), "auth_failed") << trace();
  EXPECT_EQ(trunk()["last_status"], 403);
  EXPECT_EQ(trunk()["registered_until"], 0);
  loop_.run_for(100);
  EXPECT_EQ(provider_->registers().size(), 1u) << trace();
  EXPECT_EQ(state(), "auth_failed");
}

// Wrong password: our answer is challenged again (no stale=true), which is a refusal of the
// credentials, not a reason to answer again: auth_failed after exactly two REGISTERs.
TEST_F(TrunkRegistration, WrongPasswordGivesAuthFailed) {
  provider_ = std::make_unique<Provider>(loop_, kUser, kPassword);
  start(provider_->port(), "not-the-password");
  ASSERT_TRUE(run_until([&] { return state() != "registering"; })) << trace();

  EXPECT_EQ(state(), "auth_failed") << trace();
  EXPECT_EQ(trunk()["last_status"], 401);
  loop_.run_for(100);
  EXPECT_EQ(provider_->registers().size(), 2u) << trace();
}

// A provider that never answers: the REGISTER is given up after its bound (8 s, the WAN
// transaction timeout; not configurable), the trunk goes to backoff with 408, and after the
// first backoff step (2 s +-20 %) it registers again, on a new registration.
TEST_F(TrunkRegistration, NoAnswerBacksOffThenRetries) {
  SilentServer server;
  start(server.port());
  const int64_t started = steady_ms();
  ASSERT_TRUE(run_until([&] { return state() != "registering"; }, 10000)) << trace();
  const int64_t gave_up = steady_ms() - started;

  EXPECT_EQ(state(), "backoff") << trace();
  EXPECT_EQ(trunk()["last_status"], 408);
  EXPECT_GE(gave_up, 7500);
  EXPECT_LE(gave_up, 9000);
  server.drain();
  ASSERT_EQ(server.register_call_ids().size(), 1u);
  EXPECT_GE(server.datagrams().size(), 4u) << "UDP retransmissions within the bound";

  ASSERT_TRUE(run_until([&] {
    server.drain();
    return server.register_call_ids().size() == 2;
  }, 3000)) << trace();
  EXPECT_EQ(state(), "registering");
}

}  // namespace
}  // namespace b2bua::testing
