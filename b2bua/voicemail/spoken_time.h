// When a message was left, as the voicemail menu says it before the caller's number, in the
// box's local time: "received today at nine oh five a.m.", "received yesterday at ...",
// "received December sixth at two thirty p.m.". The result is prompt names (media/prompts.h,
// kTimePrompts and the digits).
//
// Choices, for an English-speaking listener:
// - 12-hour clock with a.m./p.m., as US answering machines say it: midnight is "twelve a.m.",
//   noon "twelve p.m."; a 24-hour "zero hundred" sounds military to most callers.
// - Minute 0 says no minute ("at two p.m."; "two o'clock p.m." is not said), 1 to 9 say "oh"
//   first ("two oh five").
// - The day is an ordinal ("December sixth"), as dates are said aloud; 21 to 29 and 31 are a
//   ten and an ordinal ("twenty" "first"), which keeps the shipped words few.
// - No year: it would need numbers past fifty-nine, and a mailbox's limits rarely let a
//   message grow a year old.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

namespace b2bua::voicemail {

// `when` and `now` are local times as localtime_r gives them (tm_year, tm_mon, tm_mday,
// tm_hour, tm_min are read). "today" and "yesterday" go by the calendar date of `now`, across
// month and year ends; a time after `now` (the clock was set back) is said as a date.
std::vector<std::string> spoken_time(const std::tm& when, const std::tm& now);

// The same for a message's received_ms, in the box's local time zone (TZ respected). Empty
// when either time cannot be converted.
std::vector<std::string> spoken_time(int64_t received_ms, std::time_t now);

}  // namespace b2bua::voicemail
