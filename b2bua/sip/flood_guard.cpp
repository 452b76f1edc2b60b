#include "b2bua/sip/flood_guard.h"

#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"
#include "b2bua/config/network.h"

namespace b2bua::sip {

FloodGuard::FloodGuard(su_root_t* root, std::string side, FloodLimits limits, Hooks hooks)
    : side_(std::move(side)), limits_(limits), hooks_(std::move(hooks)), timer_(root) {
  timer_.every(1000, [this] { tick(clock::unix_s()); });
}

void FloodGuard::on_request(const std::string& source) {
  ++total_this_second_;
  if (limits_.total && total_this_second_ > limits_.total && !shield_) shield_on();
  if (!limits_.per_source || source.empty()) return;
  auto it = this_second_.find(source);
  if (it == this_second_.end()) {
    // Forged sources are many; past the bound the shield is what holds them.
    if (this_second_.size() >= kMaxTracked) return;
    it = this_second_.emplace(source, 0).first;
  }
  if (++it->second == limits_.per_source + 1 && !blocked_until_.count(source)) {
    block(source, it->second, clock::unix_s());
  }
}

void FloodGuard::let_in_only(std::optional<std::vector<config::Network>> networks) {
  if (networks == base_allow_) return;
  base_allow_ = std::move(networks);
  apply();
}

void FloodGuard::deny_for(const std::string& source, int64_t seconds) {
  int64_t until = clock::unix_s() + seconds;
  auto& current = blocked_until_[source];
  if (current >= until) return;
  current = until;
  apply();
}

void FloodGuard::block(const std::string& source, unsigned rate, int64_t now_s) {
  blocked_until_[source] = now_s + kSourceBlockSeconds;
  ++sources_blocked_total_;
  B2BUA_LOG(warn, "sip", "source_flooding",
            {{"side", side_}, {"source", source}, {"requests_in_1s", rate}, {"blocked_s", kSourceBlockSeconds}});
  apply();
}

void FloodGuard::shield_on() {
  shield_ = true;
  quiet_seconds_ = 0;
  ++shields_total_;
  dropped_before_ = hooks_.dropped ? hooks_.dropped() : 0;
  B2BUA_LOG(warn, "sip", "flood_shield_on",
            {{"side", side_}, {"requests_in_1s", total_this_second_}, {"limit", limits_.total},
             {"admitted", "registered phones only"}});
  apply();
}

void FloodGuard::tick(int64_t now_s) {
  this_second_.clear();
  total_this_second_ = 0;
  bool changed = false;
  for (auto it = blocked_until_.begin(); it != blocked_until_.end();) {
    if (it->second > now_s) {
      ++it;
      continue;
    }
    B2BUA_LOG(info, "sip", "source_unblocked", {{"side", side_}, {"source", it->first}});
    it = blocked_until_.erase(it);
    changed = true;
  }
  if (shield_) {
    // While the shield is on, the kernel's drop counter is the flood's rate.
    uint64_t dropped = hooks_.dropped ? hooks_.dropped() : 0;
    uint64_t last_second = dropped - dropped_before_;
    dropped_before_ = dropped;
    quiet_seconds_ = limits_.total && last_second >= limits_.total ? 0 : quiet_seconds_ + 1;
    if (quiet_seconds_ >= kQuietSeconds) {
      shield_ = false;
      B2BUA_LOG(warn, "sip", "flood_shield_off", {{"side", side_}, {"quiet_s", quiet_seconds_}});
    }
    changed = true;  // also: the registered phones' addresses may have moved
  }
  if (changed) apply();
}

void FloodGuard::apply() {
  SourceRules rules;
  for (const auto& [source, until] : blocked_until_) {
    config::Network n;
    if (config::parse_network(source, n)) rules.deny.push_back(n);
  }
  if (shield_) {
    std::vector<config::Network> known;
    if (hooks_.known) {
      for (const auto& source : hooks_.known()) {
        config::Network n;
        if (config::parse_network(source, n)) known.push_back(n);
      }
    }
    rules.allow_only = std::move(known);
  } else {
    rules.allow_only = base_allow_;
  }
  if (hooks_.apply) hooks_.apply(rules);
}

FloodGuard::Counts FloodGuard::counts() const {
  return {sources_blocked_total_, blocked_until_.size(), shields_total_, shield_};
}

}  // namespace b2bua::sip
