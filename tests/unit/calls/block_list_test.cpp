#include "b2bua/calls/block_list.h"

#include <gtest/gtest.h>

namespace b2bua::calls {
namespace {

struct Fixture {
  Fixture() {
    home.number = "+4930123456";
    home.ring = {"10"};
    office.number = "+4930999999";
    office.ring = {"11"};
  }
  config::Config config;
  config::InboundRoute home;
  config::InboundRoute office;
};

// routing.country "DE" (the default): own numbers "+49..." / "0049..." are "0..." nationally.
Fixture german() { return Fixture{}; }

std::string reason(const std::optional<BlockVerdict>& v) { return v ? v->reason : "none"; }

TEST(BlockList, NothingConfiguredBlocksNobody) {
  Fixture f = german();
  EXPECT_FALSE(blocked_caller(f.config, f.home, "+4930555123", false));
  EXPECT_FALSE(blocked_caller(f.config, f.home, "anonymous", true));
  EXPECT_FALSE(blocked_caller(f.config, f.home, "", false));
}

TEST(BlockList, NumberMatchesInEveryForm) {
  Fixture f = german();
  f.config.routing.block.numbers = {"+4930555123"};
  for (const char* caller : {"+4930555123", "004930555123", "030555123", "4930555123"}) {
    auto v = blocked_caller(f.config, f.home, caller, false);
    ASSERT_TRUE(v) << caller;
    EXPECT_STREQ(v->reason, "global_number") << caller;
    EXPECT_EQ(v->answer, 603);
    EXPECT_STREQ(v->phrase, "Decline");
  }
  EXPECT_FALSE(blocked_caller(f.config, f.home, "+4930555124", false));
  EXPECT_FALSE(blocked_caller(f.config, f.home, "+4330555123", false)) << "another country, same digits after it";
  EXPECT_FALSE(blocked_caller(f.config, f.home, "+49305551234", false)) << "a longer number that starts the same";
}

TEST(BlockList, ListedFormDoesNotMatter) {
  Fixture f = german();
  for (const char* listed : {"+4930555123", "004930555123", "030555123"}) {
    f.config.routing.block.numbers = {listed};
    EXPECT_EQ(reason(blocked_caller(f.config, f.home, "004930555123", false)), "global_number") << listed;
    EXPECT_EQ(reason(blocked_caller(f.config, f.home, "+4930555123", false)), "global_number") << listed;
    EXPECT_EQ(reason(blocked_caller(f.config, f.home, "030555123", false)), "global_number") << listed;
  }
}

TEST(BlockList, ShortNumbersMatchOnlyThemselves) {
  Fixture f = german();
  f.config.routing.block.numbers = {"555123"};
  EXPECT_EQ(reason(blocked_caller(f.config, f.home, "555123", false)), "global_number");
  EXPECT_FALSE(blocked_caller(f.config, f.home, "+4930555123", false)) << "too short a tail to be the same number";
}

TEST(BlockList, PrefixComparesOnTheNationalForm) {
  Fixture f = german();
  f.config.routing.block.prefixes = {"0900"};
  f.config.routing.block.answer = 486;
  for (const char* caller : {"09001234567", "+499001234567", "00499001234567"}) {
    auto v = blocked_caller(f.config, f.home, caller, false);
    ASSERT_TRUE(v) << caller;
    EXPECT_STREQ(v->reason, "global_prefix") << caller;
    EXPECT_EQ(v->answer, 486);
    EXPECT_STREQ(v->phrase, "Busy Here");
  }
  EXPECT_FALSE(blocked_caller(f.config, f.home, "0309001234", false));
  EXPECT_FALSE(blocked_caller(f.config, f.home, "+4309001234", false)) << "the same digits abroad";
}

TEST(BlockList, PrefixWrittenInternationally) {
  Fixture f = german();
  f.config.routing.block.prefixes = {"+49900"};
  EXPECT_EQ(reason(blocked_caller(f.config, f.home, "09001234567", false)), "global_prefix");
  EXPECT_EQ(reason(blocked_caller(f.config, f.home, "+499001234567", false)), "global_prefix");
  f.config.routing.block.prefixes = {"0049900"};
  EXPECT_EQ(reason(blocked_caller(f.config, f.home, "09001234567", false)), "global_prefix");
}

TEST(BlockList, ForeignPrefixInEitherForm) {
  Fixture f = german();
  for (const char* prefix : {"+44", "0044"}) {
    f.config.routing.block.prefixes = {prefix};
    EXPECT_EQ(reason(blocked_caller(f.config, f.home, "+442071234567", false)), "global_prefix") << prefix;
    EXPECT_EQ(reason(blocked_caller(f.config, f.home, "00442071234567", false)), "global_prefix") << prefix;
    EXPECT_FALSE(blocked_caller(f.config, f.home, "+4930555123", false)) << prefix;
    EXPECT_FALSE(blocked_caller(f.config, f.home, "0442071234", false)) << prefix << ": a national 044 number";
  }
  f.config.routing.block.prefixes = {"00"};  // everyone abroad
  EXPECT_EQ(reason(blocked_caller(f.config, f.home, "+33123456789", false)), "global_prefix");
  EXPECT_FALSE(blocked_caller(f.config, f.home, "+4930555123", false)) << "the own country is national";
}

TEST(BlockList, WithoutCountryOnlyThePlusIsRewritten) {
  Fixture f = german();
  f.config.routing.classes = number::builtin_class_table("generic").value();
  f.config.routing.block.prefixes = {"0049"};
  EXPECT_EQ(reason(blocked_caller(f.config, f.home, "+4930555123", false)), "global_prefix");
  EXPECT_FALSE(blocked_caller(f.config, f.home, "030555123", false));
}

TEST(BlockList, PrefixIgnoresSeparatorsAndEmptyEntries) {
  Fixture f = german();
  f.config.routing.block.prefixes = {"", "+"};
  EXPECT_FALSE(blocked_caller(f.config, f.home, "+4930555123", false)) << "an empty prefix refuses nobody";
  f.config.routing.block.prefixes = {"0900"};
  EXPECT_EQ(reason(blocked_caller(f.config, f.home, "0900-123 4567", false)), "global_prefix");
}

TEST(BlockList, Anonymous) {
  Fixture f = german();
  f.config.routing.block.anonymous = true;
  EXPECT_EQ(reason(blocked_caller(f.config, f.home, "anonymous", true)), "global_anonymous");
  // Privacy: id with a number still in From: the caller withholds it.
  EXPECT_EQ(reason(blocked_caller(f.config, f.home, "+4930555123", true)), "global_anonymous");
  // No number at all, whatever the From says.
  for (const char* caller : {"", "anonymous", "Anonymous", "unavailable", "restricted", "*#"}) {
    EXPECT_EQ(reason(blocked_caller(f.config, f.home, caller, false)), "global_anonymous") << caller;
  }
  EXPECT_FALSE(blocked_caller(f.config, f.home, "+4930555123", false));
}

TEST(BlockList, AnonymousCallerIsNoNumberOrPrefix) {
  Fixture f = german();
  f.config.routing.block.numbers = {"+4930555123"};
  f.config.routing.block.prefixes = {"0"};
  // The number is withheld: a list of numbers cannot know it, so only "anonymous" refuses it.
  EXPECT_FALSE(blocked_caller(f.config, f.home, "+4930555123", true));
  EXPECT_FALSE(blocked_caller(f.config, f.home, "anonymous", true));
}

TEST(BlockList, PerDidListsApplyToTheirDidOnly) {
  Fixture f = german();
  f.home.block.numbers = {"+4930555123"};
  f.home.block.prefixes = {"0180"};
  f.home.block.anonymous = true;
  f.home.block.answer = 486;
  EXPECT_EQ(reason(blocked_caller(f.config, f.home, "004930555123", false)), "did_number");
  EXPECT_EQ(reason(blocked_caller(f.config, f.home, "+491801234567", false)), "did_prefix");
  auto v = blocked_caller(f.config, f.home, "anonymous", true);
  ASSERT_TRUE(v);
  EXPECT_STREQ(v->reason, "did_anonymous");
  EXPECT_EQ(v->answer, 486);
  EXPECT_FALSE(blocked_caller(f.config, f.office, "004930555123", false));
  EXPECT_FALSE(blocked_caller(f.config, f.office, "+491801234567", false));
  EXPECT_FALSE(blocked_caller(f.config, f.office, "anonymous", true));
}

TEST(BlockList, GlobalListAppliesToEveryDid) {
  Fixture f = german();
  f.config.routing.block.numbers = {"030555123"};
  EXPECT_EQ(reason(blocked_caller(f.config, f.home, "+4930555123", false)), "global_number");
  EXPECT_EQ(reason(blocked_caller(f.config, f.office, "+4930555123", false)), "global_number");
}

TEST(BlockList, DidListAnswersWhenBothRefuse) {
  Fixture f = german();
  f.config.routing.block.numbers = {"+4930555123"};
  f.config.routing.block.answer = 603;
  f.home.block.numbers = {"030555123"};
  f.home.block.answer = 486;
  auto v = blocked_caller(f.config, f.home, "+4930555123", false);
  ASSERT_TRUE(v);
  EXPECT_STREQ(v->reason, "did_number");
  EXPECT_EQ(v->answer, 486);
  v = blocked_caller(f.config, f.office, "+4930555123", false);
  ASSERT_TRUE(v);
  EXPECT_STREQ(v->reason, "global_number");
  EXPECT_EQ(v->answer, 603);
}

TEST(BlockList, AnswerOtherThanBusyIsDecline) {
  Fixture f = german();
  f.config.routing.block.numbers = {"+4930555123"};
  f.config.routing.block.answer = 480;
  auto v = blocked_caller(f.config, f.home, "+4930555123", false);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->answer, 603);
}

}  // namespace
}  // namespace b2bua::calls
