// When a message was left, as prompt names: the 12-hour clock, the minute's forms, today and
// yesterday across month and year ends, month names and ordinal days, and the box's time zone.
#include "b2bua/voicemail/spoken_time.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "media/prompts.h"

namespace b2bua::voicemail {
namespace {

using Names = std::vector<std::string>;

std::tm local(int year, int month, int day, int hour = 12, int minute = 0) {
  std::tm t{};
  t.tm_year = year - 1900;
  t.tm_mon = month - 1;
  t.tm_mday = day;
  t.tm_hour = hour;
  t.tm_min = minute;
  return t;
}

const std::tm kNow = local(2026, 12, 6, 18, 0);

// What follows "at", for a message left today.
Names clock(int hour, int minute) {
  Names n = spoken_time(local(2026, 12, 6, hour, minute), kNow);
  EXPECT_EQ(Names(n.begin(), n.begin() + 3), (Names{"received", "today", "at"}));
  return Names(n.begin() + 3, n.end());
}

// What comes between "received" and "at".
Names day_part(const std::tm& when, const std::tm& now) {
  Names n = spoken_time(when, now);
  const auto at = std::find(n.begin(), n.end(), "at");
  EXPECT_EQ(n.front(), "received");
  return Names(n.begin() + 1, at);
}

TEST(SpokenTime, TwelveHourClockWithAmAndPm) {
  EXPECT_EQ(clock(0, 0), (Names{"number_12", "am"})) << "midnight";
  EXPECT_EQ(clock(0, 1), (Names{"number_12", "oh", "digit_1", "am"}));
  EXPECT_EQ(clock(1, 0), (Names{"digit_1", "am"}));
  EXPECT_EQ(clock(11, 59), (Names{"number_11", "number_50", "digit_9", "am"}));
  EXPECT_EQ(clock(12, 0), (Names{"number_12", "pm"})) << "noon";
  EXPECT_EQ(clock(13, 0), (Names{"digit_1", "pm"}));
  EXPECT_EQ(clock(23, 59), (Names{"number_11", "number_50", "digit_9", "pm"}));
}

TEST(SpokenTime, MinutesSayNothingOnTheHourOhBelowTenAndWordsAbove) {
  EXPECT_EQ(clock(14, 0), (Names{"digit_2", "pm"})) << "two p.m., no o'clock";
  EXPECT_EQ(clock(9, 5), (Names{"digit_9", "oh", "digit_5", "am"})) << "nine oh five";
  EXPECT_EQ(clock(14, 10), (Names{"digit_2", "number_10", "pm"}));
  EXPECT_EQ(clock(14, 15), (Names{"digit_2", "number_15", "pm"}));
  EXPECT_EQ(clock(14, 30), (Names{"digit_2", "number_30", "pm"})) << "two thirty";
  EXPECT_EQ(clock(14, 45), (Names{"digit_2", "number_40", "digit_5", "pm"})) << "two forty-five";
  EXPECT_EQ(clock(14, 59), (Names{"digit_2", "number_50", "digit_9", "pm"}));
}

TEST(SpokenTime, TodayYesterdayOrTheDate) {
  EXPECT_EQ(day_part(local(2026, 12, 6, 0, 0), kNow), (Names{"today"}));
  EXPECT_EQ(day_part(local(2026, 12, 5, 23, 59), kNow), (Names{"yesterday"}));
  EXPECT_EQ(day_part(local(2026, 12, 5, 0, 0), kNow), (Names{"yesterday"}));
  EXPECT_EQ(day_part(local(2026, 12, 4, 23, 59), kNow), (Names{"month_12", "day_4"}));
  EXPECT_EQ(day_part(local(2025, 12, 6), kNow), (Names{"month_12", "day_6"})) << "a year ago is not today";
  EXPECT_EQ(day_part(local(2026, 12, 7), kNow), (Names{"month_12", "day_7"})) << "after now: the clock went back";
}

TEST(SpokenTime, YesterdayAcrossMonthAndYearEnds) {
  EXPECT_EQ(day_part(local(2026, 11, 30, 22, 0), local(2026, 12, 1, 8, 0)), (Names{"yesterday"}));
  EXPECT_EQ(day_part(local(2025, 12, 31, 23, 59), local(2026, 1, 1, 0, 0)), (Names{"yesterday"}));
  EXPECT_EQ(day_part(local(2025, 12, 30, 23, 59), local(2026, 1, 1, 0, 0)), (Names{"month_12", "day_30"}));
  EXPECT_EQ(day_part(local(2026, 1, 1, 0, 0), local(2026, 1, 1, 23, 59)), (Names{"today"}));
  EXPECT_EQ(day_part(local(2028, 2, 29), local(2028, 3, 1)), (Names{"yesterday"})) << "leap day";
  EXPECT_EQ(day_part(local(2027, 2, 28), local(2027, 3, 1)), (Names{"yesterday"}));
}

TEST(SpokenTime, MonthNamesAndOrdinalDays) {
  const std::tm later = local(2027, 6, 1);
  for (int month = 1; month <= 12; ++month) {
    EXPECT_EQ(day_part(local(2026, month, 9), later).front(), "month_" + std::to_string(month));
  }
  EXPECT_EQ(day_part(local(2026, 1, 1), later), (Names{"month_1", "day_1"})) << "January first";
  EXPECT_EQ(day_part(local(2026, 12, 6), later), (Names{"month_12", "day_6"})) << "December sixth";
  EXPECT_EQ(day_part(local(2026, 3, 12), later), (Names{"month_3", "day_12"}));
  EXPECT_EQ(day_part(local(2026, 3, 20), later), (Names{"month_3", "day_20"}));
  EXPECT_EQ(day_part(local(2026, 3, 21), later), (Names{"month_3", "number_20", "day_1"})) << "twenty-first";
  EXPECT_EQ(day_part(local(2026, 3, 29), later), (Names{"month_3", "number_20", "day_9"}));
  EXPECT_EQ(day_part(local(2026, 3, 30), later), (Names{"month_3", "day_30"}));
  EXPECT_EQ(day_part(local(2026, 3, 31), later), (Names{"month_3", "number_30", "day_1"})) << "thirty-first";
  EXPECT_EQ(spoken_time(local(2026, 12, 6, 14, 30), local(2027, 1, 2)),
            (Names{"received", "month_12", "day_6", "at", "digit_2", "number_30", "pm"}));
}

// Every word any time can need is a shipped prompt, and every shipped time word is used.
TEST(SpokenTime, UsesExactlyTheTimePromptsAndDigits) {
  std::set<std::string> used;
  const std::tm later = local(2027, 6, 1);
  for (int month = 1; month <= 12; ++month) {
    for (int day = 1; day <= 31; ++day) {
      for (const std::string& n : spoken_time(local(2026, month, day, 12), later)) used.insert(n);
    }
  }
  for (int hour = 0; hour < 24; ++hour) {
    for (int minute = 0; minute < 60; ++minute) {
      for (const std::string& n : spoken_time(local(2026, 12, 6, hour, minute), kNow)) used.insert(n);
    }
  }
  for (const std::string& n : spoken_time(local(2026, 12, 5), kNow)) used.insert(n);
  std::set<std::string> shipped(std::begin(media::kTimePrompts), std::end(media::kTimePrompts));
  for (char d = '1'; d <= '9'; ++d) shipped.insert(std::string("digit_") + d);
  EXPECT_EQ(used, shipped);
}

// The box's own time zone: TZ moves the same instant to another hour and, here, another day.
TEST(SpokenTime, SaysTheBoxsLocalTime) {
  const char* old = ::getenv("TZ");
  const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  const int64_t received_ms = 1796567400000;  // 2026-12-06 14:30 UTC
  const std::time_t now = 1796567400 + 3600;
  ::setenv("TZ", "UTC0", 1);
  ::tzset();
  const Names utc = spoken_time(received_ms, now);
  ::setenv("TZ", "<+10>-10", 1);  // ten hours east of UTC, no summer time
  ::tzset();
  const Names east = spoken_time(received_ms, now);
  if (saved) {
    ::setenv("TZ", saved->c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
  EXPECT_EQ(utc, (Names{"received", "today", "at", "digit_2", "number_30", "pm"}));
  EXPECT_EQ(east, (Names{"received", "today", "at", "number_12", "number_30", "am"})) << "00:30 on the 7th";
  const Names older = spoken_time(received_ms, now + 2 * 86400);
  EXPECT_EQ(older.at(1), "month_12");
}

}  // namespace
}  // namespace b2bua::voicemail
