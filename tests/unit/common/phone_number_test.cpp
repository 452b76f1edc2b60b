#include "b2bua/common/phone_number.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace b2bua::number {
namespace {

// The forms German providers send for one DID, each against the number as the admin wrote it.
TEST(PhoneNumber, InternationalNationalAndPrefixFormsMatch) {
  const char* forms[] = {"+4930123456", "004930123456", "04930123456", "4930123456", "030123456",
                         "+49 (30) 123-456"};
  for (const char* a : forms) {
    for (const char* b : forms) EXPECT_TRUE(same_number(a, b)) << a << " vs " << b;
  }
}

TEST(PhoneNumber, OtherNumbersDoNotMatch) {
  EXPECT_FALSE(same_number("+4930123456", "+4930123457"));
  EXPECT_FALSE(same_number("+4930123456", "+4940123456"));
  EXPECT_FALSE(same_number("", ""));
  EXPECT_FALSE(same_number("anonymous", "anonymous"));
}

TEST(PhoneNumber, ShortSubscriberNumberMatchesOnlyItself) {
  EXPECT_FALSE(same_number("+4930123456", "123456")) << "a 6-digit tail is too ambiguous";
  EXPECT_TRUE(same_number("123456", "123456"));
  EXPECT_TRUE(same_number("112", "0112")) << "leading zeros are not significant";
}

TEST(PhoneNumber, DialableIsDigitsStarHashAndOneLeadingPlus) {
  for (const std::string& ok : std::vector<std::string>{"10", "+4930123456", "0049301234567", "*21#", "**610", "112",
                                                        std::string(32, '9')}) {
    EXPECT_TRUE(is_dialable(ok)) << ok;
  }
  for (const std::string& bad :
       std::vector<std::string>{"", "+", "alice", "10@evil", "49 30", "++49", "0900-1", std::string(33, '9')}) {
    EXPECT_FALSE(is_dialable(bad)) << bad;
  }
}

TEST(PhoneNumber, PresentableKeepsDialableCharacters) {
  EXPECT_EQ(presentable("+49 (30) 123-456"), "+4930123456");
  EXPECT_EQ(presentable("anonymous"), "anonymous");
  EXPECT_EQ(presentable("12+3"), "123");
  EXPECT_EQ(presentable("*21#"), "*21#");
  EXPECT_EQ(presentable("+"), "anonymous");
}

}  // namespace
}  // namespace b2bua::number
