// Reading a snapshot (snapshot.h) whose every key is optional: what the terminal table and the
// health rules take from it, with one answer for an absent or mistyped key.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace b2bua::status {

// Text of a member, "" when absent; numbers and booleans as JSON writes them. Control characters
// from the network (user agents) are replaced so they cannot drive a terminal.
std::string text(const nlohmann::json& j, const char* key);
// A number member, 0 when absent or not a number.
int64_t number(const nlohmann::json& j, const char* key);
// An array member, an empty array when absent or not an array.
const nlohmann::json& list(const nlohmann::json& j, const char* key);
// `s` with control characters replaced by '?'.
std::string printable(std::string s);

// A unix time for people: "2026-12-07 14:05:09" in the local time zone (the terminal's), or
// "2026-12-07 14:05 UTC" (written by the daemon for a reader who may sit elsewhere); "" for 0.
std::string time_text(int64_t unix_s, bool utc);

}  // namespace b2bua::status
