#include <gtest/gtest.h>

#include "b2bua/config/network.h"
#include "b2bua/trunk/trunk_manager.h"

namespace b2bua::trunk {
namespace {

std::vector<TrunkAddresses> two_trunks_one_provider() {
  TrunkAddresses a{"home", "b2taaa", {{"198.51.100.10", 5060}}, {}, {"+4930111"}, "4930111"};
  TrunkAddresses b{"office", "b2tbbb", {{"198.51.100.10", 5060}}, {}, {"+4930222"}, "4930222"};
  return {a, b};
}

TEST(MatchInbound, TokenNamesTheTrunkEvenWhenProvidersShareAddresses) {
  bool by_token = false;
  EXPECT_EQ(match_inbound(two_trunks_one_provider(), "b2tbbb", "+4930111", "198.51.100.10", &by_token), 1);
  EXPECT_TRUE(by_token);
}

TEST(MatchInbound, TokenFromForeignSourceIsRejected) {
  EXPECT_EQ(match_inbound(two_trunks_one_provider(), "b2tbbb", "", "192.0.2.66", nullptr), -1);
}

TEST(MatchInbound, SourceThenNumberDisambiguates) {
  bool by_token = true;
  EXPECT_EQ(match_inbound(two_trunks_one_provider(), "4930222", "", "198.51.100.10", &by_token), 1);
  EXPECT_FALSE(by_token);
  EXPECT_EQ(match_inbound(two_trunks_one_provider(), "", "+4930222", "198.51.100.10", nullptr), 1);
  EXPECT_EQ(match_inbound(two_trunks_one_provider(), "999", "", "198.51.100.10", nullptr), 0) << "first by source";
}

TEST(MatchInbound, UnknownSourceIsRejectedAllowedRangeAccepted) {
  auto trunks = two_trunks_one_provider();
  EXPECT_EQ(match_inbound(trunks, "4930222", "", "192.0.2.66", nullptr), -1);
  config::Network range;
  ASSERT_TRUE(config::parse_network("192.0.2.0/24", range));
  trunks[1].allowed_sources.push_back(range);
  EXPECT_EQ(match_inbound(trunks, "", "", "192.0.2.66", nullptr), 1);
}

}  // namespace
}  // namespace b2bua::trunk
