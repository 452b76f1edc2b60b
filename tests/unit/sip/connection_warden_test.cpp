// Which connections the warden ends, and why (the policy alone; the daemon's side is in
// tests/integration/security/test_tcp_limits.py).
#include "b2bua/sip/connection_warden.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace b2bua::sip {
namespace {

StreamConnection conn(const std::string& peer, uint32_t quiet_ms, uint64_t received = 100) {
  StreamConnection c;
  c.peer = peer;
  c.quiet_ms = quiet_ms;
  c.bytes_received = received;
  return c;
}

std::vector<std::string> ended(const std::vector<StreamConnection>& open, const StreamLimits& limits) {
  std::vector<std::string> out;
  for (const auto& [i, reason] : connections_to_end(open, limits)) {
    out.push_back(std::to_string(i) + ":" + close_reason_name(reason));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ConnectionWarden, SilentConnectionsEndAfterTheirGraceOnly) {
  StreamLimits limits;
  limits.silent_ms = 10000;
  auto open = std::vector{conn("10.0.0.1", 10000, 0), conn("10.0.0.1", 9000, 0), conn("10.0.0.1", 50000, 12)};
  EXPECT_EQ(ended(open, limits), std::vector<std::string>{"0:silent"});
}

TEST(ConnectionWarden, IdleConnectionsEndWhenALimitIsSet) {
  StreamLimits limits;
  limits.idle_ms = 0;
  auto open = std::vector{conn("10.0.0.1", 4000000)};
  EXPECT_TRUE(ended(open, limits).empty());
  limits.idle_ms = 3600000;
  EXPECT_EQ(ended(open, limits), std::vector<std::string>{"0:idle"});
}

TEST(ConnectionWarden, AMessageThatKeepsTricklingWithoutAnAnswerEnds) {
  StreamLimits limits;
  limits.message_ms = 10000;
  auto open = std::vector{conn("10.0.0.1", 100), conn("10.0.0.2", 100)};
  open[0].unanswered_ms = 10000;
  open[1].unanswered_ms = 9000;
  EXPECT_EQ(ended(open, limits), std::vector<std::string>{"0:slow_message"});
}

TEST(ConnectionWarden, PerSourceKeepsTheOnesThatSpokeLast) {
  StreamLimits limits;
  limits.per_source = 2;
  auto open = std::vector{conn("10.0.0.1", 500), conn("10.0.0.1", 9000), conn("10.0.0.1", 100),
                          conn("10.0.0.2", 9999)};
  EXPECT_EQ(ended(open, limits), std::vector<std::string>{"1:per_source"});
}

TEST(ConnectionWarden, TotalEndsTheQuietestBeyondTheCap) {
  StreamLimits limits;
  limits.total = 2;
  auto open = std::vector{conn("10.0.0.1", 300), conn("10.0.0.2", 100), conn("10.0.0.3", 200), conn("10.0.0.4", 50)};
  EXPECT_EQ(ended(open, limits), (std::vector<std::string>{"0:total", "2:total"}));
}

}  // namespace
}  // namespace b2bua::sip
