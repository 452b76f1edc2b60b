#include "b2bua/trunk/lifetime_search.h"

#include <algorithm>

namespace b2bua::trunk {
namespace {

constexpr unsigned kRefineProbes = 3;

}  // namespace

LifetimeSearch::LifetimeSearch(unsigned min_wait_ms, unsigned max_wait_ms) : min_ms_(min_wait_ms), max_ms_(max_wait_ms) {}

bool LifetimeSearch::finished() const {
  if (control_failed_) return true;
  if (!control_done_) return false;
  if (alive_ms_ >= max_ms_) return true;
  if (rounds_ >= kMaxRounds) return true;
  if (!dead_ms_) return false;
  // A NAT whose timer wanders (a dead wait shorter than an alive one) gives no finer figure.
  if (*dead_ms_ <= alive_ms_) return true;
  unsigned gap = *dead_ms_ - alive_ms_;
  return gap <= std::max(1000u, alive_ms_ / 10);
}

std::vector<unsigned> LifetimeSearch::next_round() const {
  std::vector<unsigned> waits;
  if (finished()) return waits;
  if (!control_done_) {
    waits.push_back(0);
    // A quarter more each step: a round's result brackets the lifetime within 25%.
    for (double w = min_ms_; w < max_ms_; w *= 1.25) waits.push_back(static_cast<unsigned>(w));
    waits.push_back(max_ms_);
    return waits;
  }
  unsigned lo = alive_ms_;
  unsigned hi = dead_ms_ ? *dead_ms_ : max_ms_;
  for (unsigned i = 1; i <= kRefineProbes; ++i) {
    unsigned w = lo + (hi - lo) * i / (kRefineProbes + 1);
    if (w > lo && w < hi && (waits.empty() || w > waits.back())) waits.push_back(w);
  }
  if (!dead_ms_) waits.push_back(max_ms_);
  return waits;
}

void LifetimeSearch::record(unsigned wait_ms, bool alive) {
  if (wait_ms == 0) {
    control_done_ = true;
    control_failed_ = !alive;
    return;
  }
  if (alive) {
    alive_ms_ = std::max(alive_ms_, wait_ms);
  } else if (!dead_ms_ || wait_ms < *dead_ms_) {
    dead_ms_ = wait_ms;
  }
}

void LifetimeSearch::round_over() { ++rounds_; }

unsigned keepalive_for_lifetime(unsigned lifetime_ms) {
  unsigned s = lifetime_ms * 8 / 10 / 1000;
  if (lifetime_ms < kMinKeepaliveS * 1250) return std::max(kShortestKeepaliveS, s);
  return std::clamp(s, kMinKeepaliveS, kMaxKeepaliveS);
}

std::string seconds_text(unsigned ms) {
  std::string text = std::to_string(ms / 1000);
  if (unsigned tenth = ms % 1000 / 100) text += "." + std::to_string(tenth);
  return text;
}

}  // namespace b2bua::trunk
