// How long the NAT keeps an idle UDP mapping, found by trying waits (RFC 5780 4.6), and the
// keep-alive interval that fits it. The probing itself is nat_lifetime.h; this is the search,
// pure and clock-free so its rules are unit-tested.
//
// One probe of wait T: socket X gets a mapping, nothing passes it for T, then the server is
// asked (from another socket) to answer to X's mapping. X hears the answer: the mapping lived
// T ("alive"); it does not: it died before ("dead"). Mappings live the same time for the same
// NAT, so a probe of a longer wait than a dead one is dead too.
//
// A probe costs its wait, so a binary search trying one wait at a time over 12..150 s would take
// about ten minutes; instead every round runs its probes side by side
// (each with its own X and Y, so no probe refreshes another's mapping) and ends at the first
// dead one. The first round tries 0 s (the control: RESPONSE-PORT works at all) and waits from
// 12 s growing by a quarter up to 150 s; each later round tries three waits between the
// longest alive and the shortest dead, until they are within a tenth (at least 1 s) of each
// other. The NAT lab measured a 15 s NAT in 33 s, a 60 s one in 140 s.
//
// Threads: any; one search belongs to one measurement.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace b2bua::trunk {

class LifetimeSearch {
 public:
  static constexpr unsigned kMinWaitMs = 12000;
  // 150 s: 80% of it is the longest keep-alive we use (kMaxKeepaliveS), so a mapping that
  // lives longer needs no finer figure.
  static constexpr unsigned kMaxWaitMs = 150000;
  static constexpr unsigned kMaxRounds = 5;

  LifetimeSearch(unsigned min_wait_ms = kMinWaitMs, unsigned max_wait_ms = kMaxWaitMs);

  // The waits of the next round, ascending; empty once the search is over.
  std::vector<unsigned> next_round() const;
  // One probe's verdict, in ascending order of wait within a round, up to its first dead one.
  void record(unsigned wait_ms, bool alive);
  // The round's verdicts are all in.
  void round_over();

  bool finished() const;
  // The control probe (0 s) was not answered: the server cannot answer to another port.
  bool control_failed() const { return control_failed_; }
  // The longest wait a mapping survived: the lifetime we may count on.
  // (The shorter of the two when the NAT's timer wandered.)
  unsigned lifetime_ms() const { return dead_ms_ ? std::min(alive_ms_, *dead_ms_) : alive_ms_; }
  // The shortest wait a mapping did not survive; nullopt: it outlived every wait we tried.
  std::optional<unsigned> dead_ms() const { return dead_ms_; }
  // Outlived the longest wait tried (kMaxWaitMs): lifetime_ms() is only a lower bound.
  bool at_least() const { return !dead_ms_ && alive_ms_ >= max_ms_; }

 private:
  unsigned min_ms_, max_ms_;
  unsigned rounds_ = 0;
  bool control_done_ = false;
  bool control_failed_ = false;
  unsigned alive_ms_ = 0;
  std::optional<unsigned> dead_ms_;
};

// Keep-alive bounds when sized to a measured lifetime.
inline constexpr unsigned kMinKeepaliveS = 10;
inline constexpr unsigned kMaxKeepaliveS = 120;
// The config's smallest interval: the floor below a NAT so short that even 10 s is too long.
inline constexpr unsigned kShortestKeepaliveS = 5;

// The keep-alive for a mapping that lives `lifetime_ms`: 80% of it, so a late timer or one lost
// keep-alive's successor still lands inside the lifetime; within 10..120 s. Below a 12.5 s
// lifetime 10 s would not be safe, so 80% down to 5 s.
unsigned keepalive_for_lifetime(unsigned lifetime_ms);

// Milliseconds as seconds for logs: "14.2", "150" (tenths, rounded down).
std::string seconds_text(unsigned ms);

}  // namespace b2bua::trunk
