// The keep-alive's OPTIONS probe against a silent server, on a real WAN agent: stopping the
// keep-alive abandons the probe in flight, so the stack's shutdown does not wait out the
// probe's transaction (timer F, the agent's 8 s) -- past the daemon's 4 s shutdown bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "b2bua/sip/sip_agent.h"
#include "b2bua/trunk/keepalive.h"
#include "sip_fixture.h"

namespace b2bua::testing {
namespace {

class KeepaliveProbe : public ::testing::Test {
 protected:
  // The WAN agent with timer F (64*T1) at `transaction_ms`: the daemon's is 8000.
  void start_agent(unsigned transaction_ms) {
    wan_port_ = free_port();
    sip::AgentOptions options;
    options.name = "wan";
    options.url = "sip:127.0.0.1:" + std::to_string(wan_port_);
    options.transaction_timeout_ms = transaction_ms;
    wan_ = std::make_unique<sip::SipAgent>(loop_.root(), options);
  }

  trunk::Keepalive failback_probe() {
    return trunk::Keepalive(*wan_, "provider", config::Keepalive{config::KeepaliveMethod::options, 5, false},
                            {"127.0.0.1", wan_port_}, {}, "failback_probe");
  }

  trunk::KeepaliveTarget silent_target() const {
    const std::string server = "127.0.0.1:" + std::to_string(silent_.port());
    return trunk::KeepaliveTarget{{"127.0.0.1", silent_.port()}, "sip:" + server, config::Transport::udp,
                                  "<sip:4930123456@provider.test>", "sip:provider.test",
                                  "<sip:b2t1@127.0.0.1:" + std::to_string(wan_port_) + ">"};
  }

  bool options_arrived() {
    silent_.drain();
    const auto& d = silent_.datagrams();
    return std::any_of(d.begin(), d.end(), [](const std::string& m) { return m.rfind("OPTIONS ", 0) == 0; });
  }

  // A probe in flight now, bounded by 4 s like the daemon's (interval 5 s): set_interval()
  // sends one at once instead of after the first interval.
  void probe_now(trunk::Keepalive& probe) {
    probe.start(silent_target());
    probe.set_interval(6);
    ASSERT_TRUE(loop_.run_until([&] { return options_arrived(); }, 1000)) << "no OPTIONS reached the silent server";
  }

  // The agent's nua_shutdown() reported its end within `bound_ms`.
  bool shuts_down_within(unsigned bound_ms) {
    wan_->shutdown([this] { stopped_ = true; });
    return loop_.run_until([&] { return stopped_; }, bound_ms);
  }

  SipLoop loop_;
  SilentServer silent_;
  uint16_t wan_port_ = 0;
  std::unique_ptr<sip::SipAgent> wan_;
  bool stopped_ = false;
};

// The failback probe's case: a probe on a handle of its own, to a server that never answers,
// stopped within its bound (the trunk stopping for shutdown). The stack finishes at once.
TEST_F(KeepaliveProbe, StopAbandonsAProbeToASilentServer) {
  start_agent(8000);
  trunk::Keepalive probe = failback_probe();
  probe_now(probe);
  probe.stop();
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(shuts_down_within(2000)) << "nua_shutdown still waits for the abandoned OPTIONS";
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1500));
}

// Control, and why stop() must come first: a probe still in flight when nua_shutdown() starts
// holds the stack until its transaction ends (timer F, 2 s here), and sofia 1.12 takes no
// handle destruction after nua_shutdown() (nua_signal() refuses all but the shutdown), so a
// stop() then no longer helps.
TEST_F(KeepaliveProbe, AProbeInFlightHoldsTheStackShutdownUntilTimerF) {
  start_agent(2000);
  trunk::Keepalive probe = failback_probe();
  probe_now(probe);
  auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(shuts_down_within(1000)) << "nua_shutdown did not wait for the pending OPTIONS";
  probe.stop();
  EXPECT_TRUE(loop_.run_until([&] { return stopped_; }, 3000)) << "the stack finishes after timer F";
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace b2bua::testing
