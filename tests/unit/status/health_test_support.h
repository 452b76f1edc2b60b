// What the tests of the health rules (health.h) share: a fixed "now", the findings of one
// snapshot by id, and a snapshot of one trunk with the keys every trunk entry has.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "b2bua/status/health.h"

namespace b2bua::status::test {

constexpr int64_t kNow = 1'700'003'725;

inline LocalFacts at_now() {
  LocalFacts f;
  f.now_s = kNow;
  return f;
}

// The one finding with `id`; fails the test when there is none or more than one.
inline Finding only(const std::vector<Finding>& findings, const std::string& id) {
  std::vector<Finding> hits;
  for (const auto& f : findings) {
    if (f.id == id) hits.push_back(f);
  }
  EXPECT_EQ(hits.size(), 1u) << id << " in " << to_json(findings).dump(1);
  return hits.empty() ? Finding{} : hits.front();
}

inline bool has(const std::vector<Finding>& findings, const std::string& id) {
  for (const auto& f : findings) {
    if (f.id == id) return true;
  }
  return false;
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The findings of a snapshot holding trunk `t` (name, registrar and username filled in).
inline std::vector<Finding> trunk(nlohmann::json t, const LocalFacts& facts = at_now()) {
  t["name"] = "sipgate";
  t.emplace("enabled", true);
  t.emplace("registrar", "sip:sipgate.de");
  t.emplace("username", "4930123456");
  return diagnose(nlohmann::json{{"trunks", nlohmann::json::array({t})}}, facts);
}

}  // namespace b2bua::status::test
