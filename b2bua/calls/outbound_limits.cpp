#include "b2bua/calls/outbound_limits.h"

#include <nlohmann/json.hpp>

#include "b2bua/status/snapshot.h"

namespace b2bua::calls {
namespace {

constexpr int64_t kHour = 3600;

}  // namespace

OutboundLimits::State& OutboundLimits::current(const std::string& ext, int64_t now_s) {
  State& s = states_[ext];
  // A block that ran out starts the extension afresh: the calls that crossed the hourly limit
  // must not block it again at once.
  if (s.blocked && !s.blocking(now_s)) s = State{};
  while (!s.admitted.empty() && s.admitted.front() <= now_s - kHour) s.admitted.pop_front();
  return s;
}

OutboundLimits::Verdict OutboundLimits::admit(const config::Extension& ext, size_t active, int cooldown_s,
                                              int64_t now_s) {
  State& s = current(ext.number, now_s);
  if (s.blocked) return {Verdict::blocked, s.blocked_by.c_str()};
  const config::ExtensionLimits& l = ext.limits;
  Verdict v;
  if (l.calls_per_hour > 0 && s.admitted.size() >= static_cast<size_t>(l.calls_per_hour)) {
    v = {Verdict::crossed, "calls_per_hour", l.calls_per_hour};
  } else if (l.concurrent_external > 0 && active >= static_cast<size_t>(l.concurrent_external)) {
    v = {Verdict::crossed, "concurrent_external", l.concurrent_external};
  } else {
    s.admitted.push_back(now_s);
    return v;
  }
  s.blocked = true;
  s.blocked_until = cooldown_s > 0 ? now_s + cooldown_s : 0;
  s.blocked_by = v.limit;
  ++hits_[ext.number][v.limit];
  return v;
}

size_t OutboundLimits::reset(int64_t now_s) {
  size_t blocked = 0;
  for (const auto& [ext, s] : states_) blocked += s.blocking(now_s) ? 1 : 0;
  states_.clear();
  return blocked;
}

void OutboundLimits::describe(nlohmann::json& status, const config::Config& config, int64_t now_s) const {
  for (const auto& e : config.extensions) {
    nlohmann::json limits = {{"blocked", false}, {"calls_last_hour", 0},
                             {"hits", {{"calls_per_hour", 0}, {"concurrent_external", 0}}}};
    if (auto s = states_.find(e.number); s != states_.end()) {
      size_t recent = 0;
      for (int64_t t : s->second.admitted) recent += t > now_s - kHour ? 1 : 0;
      limits["calls_last_hour"] = recent;
      if (s->second.blocking(now_s)) {
        limits["blocked"] = true;
        limits["blocked_by"] = s->second.blocked_by;
        limits["blocked_until"] = s->second.blocked_until ? nlohmann::json(s->second.blocked_until) : nlohmann::json();
      }
    }
    if (auto h = hits_.find(e.number); h != hits_.end()) {
      for (const auto& [limit, n] : h->second) limits["hits"][limit] = n;
    }
    status::entry(status, "extensions", e.number)["limits"] = limits;
  }
}

}  // namespace b2bua::calls
