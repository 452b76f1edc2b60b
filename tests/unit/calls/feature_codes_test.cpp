#include "b2bua/calls/feature_codes.h"

#include <gtest/gtest.h>

#include <string>

namespace b2bua::calls {

// gtest prints a failed comparison with this.
void PrintTo(const FeatureCode& code, std::ostream* out) { *out << to_string(code); }

namespace {

// As the SIP side gets it: the Request-URI user with '#' escaped (RFC 3261 section 19.1.2).
std::optional<FeatureCode> parse_uri_user(std::string_view user) { return parse_feature_code(unescape_user(user)); }

FeatureCode forward_set(FeatureCode::Which which, std::string target, int seconds = 0) {
  FeatureCode code;
  code.kind = FeatureCode::forward_set;
  code.which = which;
  code.target = std::move(target);
  code.seconds = seconds;
  return code;
}

FeatureCode forward_clear(FeatureCode::Which which) {
  FeatureCode code;
  code.kind = FeatureCode::forward_clear;
  code.which = which;
  return code;
}

FeatureCode switched(FeatureCode::Kind kind, bool on) {
  FeatureCode code;
  code.kind = kind;
  code.on = on;
  return code;
}

FeatureCode pickup_extension(std::string extension) {
  FeatureCode code;
  code.kind = FeatureCode::pickup_extension;
  code.target = std::move(extension);
  return code;
}

FeatureCode pickup_group() {
  FeatureCode code;
  code.kind = FeatureCode::pickup_group;
  return code;
}

// --- unescape_user ---------------------------------------------------------------------------

TEST(FeatureCodesUnescape, DecodesTheHashPhonesEscape) {
  EXPECT_EQ(unescape_user("*21*11%23"), "*21*11#");
  EXPECT_EQ(unescape_user("%2321%23"), "#21#");
}

TEST(FeatureCodesUnescape, DecodesEitherHexCaseAndAnyByte) {
  EXPECT_EQ(unescape_user("%2a%2A%2b%2B"), "**++");
  EXPECT_EQ(unescape_user("a%20b"), "a b");
  EXPECT_EQ(unescape_user("%41%62%7e"), "Ab~");
}

TEST(FeatureCodesUnescape, LeavesPlainTextAlone) {
  EXPECT_EQ(unescape_user(""), "");
  EXPECT_EQ(unescape_user("*26#"), "*26#");
  EXPECT_EQ(unescape_user("+4930123456"), "+4930123456") << "'+' is no space in a URI";
}

TEST(FeatureCodesUnescape, KeepsABrokenEscapeAsItIs) {
  EXPECT_EQ(unescape_user("%"), "%");
  EXPECT_EQ(unescape_user("*21*11%2"), "*21*11%2");
  EXPECT_EQ(unescape_user("%G3"), "%G3");
  EXPECT_EQ(unescape_user("%2G"), "%2G");
  EXPECT_EQ(unescape_user("%%23"), "%#");
  EXPECT_EQ(unescape_user("50%"), "50%");
}

TEST(FeatureCodesUnescape, DoesNotDecodeTwice) {
  EXPECT_EQ(unescape_user("%2523"), "%23");
  EXPECT_FALSE(parse_uri_user("*26%2523").has_value());
}

// --- forwarding --------------------------------------------------------------------------------

TEST(FeatureCodes, ForwardUnconditional) {
  EXPECT_EQ(parse_uri_user("*21*11%23"), forward_set(FeatureCode::always, "11"));
  EXPECT_EQ(parse_uri_user("%2321%23"), forward_clear(FeatureCode::always));
}

TEST(FeatureCodes, ForwardOnBusy) {
  EXPECT_EQ(parse_uri_user("*67*0301234567%23"), forward_set(FeatureCode::busy, "0301234567"));
  EXPECT_EQ(parse_uri_user("%2367%23"), forward_clear(FeatureCode::busy));
}

TEST(FeatureCodes, ForwardOnNoAnswerWithoutTimeLeavesTheTime) {
  const auto code = parse_uri_user("*61*12%23");
  EXPECT_EQ(code, forward_set(FeatureCode::no_answer, "12"));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(code->seconds, 0);
  EXPECT_EQ(parse_uri_user("%2361%23"), forward_clear(FeatureCode::no_answer));
}

TEST(FeatureCodes, ForwardOnNoAnswerWithTime) {
  EXPECT_EQ(parse_uri_user("*61*12*30%23"), forward_set(FeatureCode::no_answer, "12", 30));
  EXPECT_EQ(parse_uri_user("*61*+4930123456*5%23"), forward_set(FeatureCode::no_answer, "+4930123456", 5));
  EXPECT_EQ(parse_uri_user("*61*12*300%23"), forward_set(FeatureCode::no_answer, "12", 300));
  EXPECT_EQ(parse_uri_user("*61*12*015%23"), forward_set(FeatureCode::no_answer, "12", 15));
}

TEST(FeatureCodes, ForwardOnNoAnswerInGsmSpellingWithEmptyServiceGroup) {
  EXPECT_EQ(parse_uri_user("*61*12**25%23"), forward_set(FeatureCode::no_answer, "12", 25));
  EXPECT_FALSE(parse_uri_user("*61*12*11*25%23").has_value()) << "a service group we do not have";
  EXPECT_FALSE(parse_uri_user("*61*12**%23").has_value());
  EXPECT_FALSE(parse_uri_user("*61*12***25%23").has_value());
}

TEST(FeatureCodes, NoAnswerTimeOutsideFiveToThreeHundredIsNoCode) {
  for (const char* user : {"*61*12*4%23", "*61*12*0%23", "*61*12*301%23", "*61*12*1000%23",
                           "*61*12*99999999999999999999%23", "*61*12*%23", "*61*12*3x%23", "*61*12*-5%23"}) {
    EXPECT_FALSE(parse_uri_user(user).has_value()) << user;
  }
}

TEST(FeatureCodes, TimeOnlyForNoAnswer) {
  EXPECT_FALSE(parse_uri_user("*21*11*30%23").has_value());
  EXPECT_FALSE(parse_uri_user("*67*11*30%23").has_value());
  EXPECT_FALSE(parse_uri_user("*62*11*30%23").has_value());
}

TEST(FeatureCodes, ForwardWhenUnregistered) {
  EXPECT_EQ(parse_uri_user("*62*017612345678%23"), forward_set(FeatureCode::unregistered, "017612345678"));
  EXPECT_EQ(parse_uri_user("%2362%23"), forward_clear(FeatureCode::unregistered));
}

TEST(FeatureCodes, ForwardTargetsMayBeInternationalOrLong) {
  EXPECT_EQ(parse_uri_user("*21*+4930123456%23"), forward_set(FeatureCode::always, "+4930123456"));
  EXPECT_EQ(parse_uri_user("*21*004930123456%23"), forward_set(FeatureCode::always, "004930123456"));
  const std::string longest(32, '7');
  EXPECT_EQ(parse_feature_code("*21*+" + longest + "#"), forward_set(FeatureCode::always, "+" + longest));
  EXPECT_FALSE(parse_feature_code("*21*" + longest + "7#").has_value()) << "33 digits";
}

TEST(FeatureCodes, ForwardTargetMustBeDigits) {
  for (const char* dialled : {"*21*#", "*21*+#", "*21*1+2#", "*21*++49#", "*21*alice#", "*21*11a#", "*21* 11#",
                              "*21*1 1#", "*21*1.1#", "*21*1-1#", "*21*11@example.com#", "*21*%31#"}) {
    EXPECT_FALSE(parse_feature_code(dialled).has_value()) << dialled;
  }
}

TEST(FeatureCodes, SetFormsNeedTheirClosingHash) {
  for (const char* dialled : {"*21*11", "*67*11", "*61*11", "*61*11*20", "*62*11", "*26", "*43", "#21", "#26", "#43",
                              "*21*11%23"}) {
    EXPECT_FALSE(parse_feature_code(dialled).has_value()) << dialled << " (not unescaped: no '#')";
  }
}

TEST(FeatureCodes, ActivationWithoutANumberIsNoCode) {
  // GSM would re-activate the number registered before; we keep no such number.
  EXPECT_FALSE(parse_feature_code("*21#").has_value());
  EXPECT_FALSE(parse_feature_code("*67#").has_value());
  EXPECT_FALSE(parse_feature_code("*61#").has_value());
  EXPECT_FALSE(parse_feature_code("*62#").has_value());
}

TEST(FeatureCodes, ClearFormsTakeNoNumber) {
  EXPECT_FALSE(parse_feature_code("#21*11#").has_value());
  EXPECT_FALSE(parse_feature_code("#61*11*20#").has_value());
  EXPECT_FALSE(parse_feature_code("##21#").has_value()) << "GSM erasure: not in our table";
  EXPECT_FALSE(parse_feature_code("#*21#").has_value());
}

// --- do-not-disturb and call waiting ----------------------------------------------------------------

TEST(FeatureCodes, DoNotDisturbOnAndOff) {
  EXPECT_EQ(parse_uri_user("*26%23"), switched(FeatureCode::dnd, true));
  EXPECT_EQ(parse_uri_user("%2326%23"), switched(FeatureCode::dnd, false));
}

TEST(FeatureCodes, CallWaitingOnAndOff) {
  EXPECT_EQ(parse_uri_user("*43%23"), switched(FeatureCode::call_waiting, true));
  EXPECT_EQ(parse_uri_user("%2343%23"), switched(FeatureCode::call_waiting, false));
}

TEST(FeatureCodes, SwitchesTakeNoArgument) {
  EXPECT_FALSE(parse_feature_code("*26*1#").has_value());
  EXPECT_FALSE(parse_feature_code("*43*11#").has_value());
  EXPECT_FALSE(parse_feature_code("*26*#").has_value());
}

// --- pickup ------------------------------------------------------------------------------------

TEST(FeatureCodes, DirectedPickup) {
  EXPECT_EQ(parse_feature_code("**11"), pickup_extension("11"));
  EXPECT_EQ(parse_feature_code("**2001"), pickup_extension("2001"));
  EXPECT_EQ(parse_feature_code("**0"), pickup_extension("0"));
}

TEST(FeatureCodes, DirectedPickupIsDigitsOnly) {
  for (const char* dialled : {"**", "**11#", "***11", "**+11", "**1*1", "**bob", "**11 "}) {
    EXPECT_FALSE(parse_feature_code(dialled).has_value()) << dialled;
  }
  EXPECT_FALSE(parse_uri_user("**11%23").has_value());
}

TEST(FeatureCodes, GroupPickupWithOrWithoutHash) {
  EXPECT_EQ(parse_feature_code("*8"), pickup_group());
  EXPECT_EQ(parse_uri_user("*8%23"), pickup_group());
  EXPECT_FALSE(parse_feature_code("*8*#").has_value());
  EXPECT_FALSE(parse_feature_code("*8*11#").has_value());
  EXPECT_FALSE(parse_feature_code("*88").has_value());
  EXPECT_FALSE(parse_feature_code("#8#").has_value());
  EXPECT_FALSE(parse_feature_code("*8##").has_value());
}

// --- what is no code -----------------------------------------------------------------------------

TEST(FeatureCodes, UnknownServicesAreNoCode) {
  for (const char* dialled : {"*22*11#", "#22#", "*30#", "*31#", "#31#", "*99#", "*#21#", "*#06#", "*0#", "*210*11#",
                              "*2*11#", "*#", "#", "*", "##", "", "#*", "#00#", "*1#"}) {
    EXPECT_FALSE(parse_feature_code(dialled).has_value()) << '"' << dialled << '"';
  }
}

TEST(FeatureCodes, OrdinaryNumbersAreNoCode) {
  for (const char* dialled : {"11", "0301234567", "+4930123456", "112", "21#", "0#"}) {
    EXPECT_FALSE(parse_feature_code(dialled).has_value()) << dialled;
  }
}

TEST(FeatureCodes, OverlongInputIsNoCode) {
  EXPECT_FALSE(parse_feature_code("*21*" + std::string(200, '1') + "#").has_value());
  EXPECT_FALSE(parse_feature_code("**" + std::string(33, '1')).has_value());
  EXPECT_EQ(parse_feature_code("**" + std::string(32, '1')), pickup_extension(std::string(32, '1')));
}

TEST(FeatureCodes, TrailingOrEmbeddedGarbageIsNoCode) {
  for (const char* dialled : {"*26##", "*26#1", "*21*11##", "*21*11#1", " *26#", "*26# ", "*21**11#", "*21*11*#"}) {
    EXPECT_FALSE(parse_feature_code(dialled).has_value()) << '"' << dialled << '"';
  }
  EXPECT_FALSE(parse_feature_code(std::string_view("*26\0#", 5)).has_value());
  EXPECT_FALSE(parse_uri_user("*26%00%23").has_value());
}

// --- looks_like_feature_code -----------------------------------------------------------------------

TEST(FeatureCodesLooksLike, AnythingStartingWithStarOrHash) {
  for (const char* dialled : {"*", "#", "*21*11#", "#21#", "*99#", "**11", "*#06#", "#abc", "*8"}) {
    EXPECT_TRUE(looks_like_feature_code(dialled)) << dialled;
  }
}

TEST(FeatureCodesLooksLike, NumbersDoNot) {
  for (const char* dialled : {"", "11", "0301234567", "+4930123456", "112", "1*2#", "%2321%23"}) {
    EXPECT_FALSE(looks_like_feature_code(dialled)) << dialled;
  }
}

TEST(FeatureCodesLooksLike, EveryParsedCodeLooksLikeOne) {
  for (const char* dialled : {"*21*11#", "#21#", "*67*11#", "#67#", "*61*11#", "*61*11*20#", "#61#", "*62*11#",
                              "#62#", "*26#", "#26#", "*43#", "#43#", "**11", "*8", "*8#"}) {
    ASSERT_TRUE(parse_feature_code(dialled).has_value()) << dialled;
    EXPECT_TRUE(looks_like_feature_code(dialled)) << dialled;
  }
}

// --- to_string -----------------------------------------------------------------------------------

TEST(FeatureCodesToString, NamesWhatTheCodeDoes) {
  EXPECT_EQ(to_string(forward_set(FeatureCode::no_answer, "0301234567", 30)),
            "forward_set no_answer 0301234567 after 30s");
  EXPECT_EQ(to_string(forward_set(FeatureCode::busy, "11")), "forward_set busy 11");
  EXPECT_EQ(to_string(forward_clear(FeatureCode::unregistered)), "forward_clear unregistered");
  EXPECT_EQ(to_string(switched(FeatureCode::dnd, true)), "dnd on");
  EXPECT_EQ(to_string(switched(FeatureCode::call_waiting, false)), "call_waiting off");
  EXPECT_EQ(to_string(pickup_extension("11")), "pickup_extension 11");
  EXPECT_EQ(to_string(pickup_group()), "pickup_group");
  EXPECT_STREQ(to_string(FeatureCode::always), "always");
}

}  // namespace
}  // namespace b2bua::calls
