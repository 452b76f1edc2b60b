// Floods on the LAN side, stopped in the kernel.
//
// Every request sofia takes in costs a transaction of ~10 KB that lives on for the
// transaction timeout after the answer (32 s on UDP), whatever we answer: a few thousand
// requests a second, from one LAN host or from many forged LAN addresses, would grow the
// daemon by hundreds of MB and starve real phones of the SIP thread. The guard counts the
// requests the agent receives, per source and in all, per second, and answers a flood with
// the agent's kernel filter (sip/source_filter.h):
//   - a source sending more than `per_source` requests within a second is dropped for
//     kSourceBlockSeconds (a phone in a retransmission storm, a script with a valid password);
//   - more than `total` requests within a second from all sources together (forged sources,
//     or a scan walking the address range) turns the shield on: only the sources our phones
//     registered from get in, until the kernel has dropped less than `total` a second for
//     kQuietSeconds. A phone that is not yet registered waits for the flood to end.
// Both trip on the request that crosses the limit, not at the end of the second, so at most
// one second's worth (plus the socket's queue) gets through. Each is logged once when it
// starts and once when it ends.
//
// The guard owns the LAN agent's filter; lan.outside "drop" and the registrar's blocked
// password guessers go into it through the guard.
//
// SIP thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "b2bua/sip/source_filter.h"
#include "b2bua/sip/timer.h"

namespace b2bua::sip {

struct FloodLimits {
  unsigned per_source = 50;  // requests a second from one address; 0: no limit
  unsigned total = 300;      // requests a second from all addresses; 0: no shield
  bool operator==(const FloodLimits&) const = default;
};

class FloodGuard {
 public:
  static constexpr int64_t kSourceBlockSeconds = 60;
  static constexpr int kQuietSeconds = 5;
  static constexpr size_t kMaxTracked = 4096;  // sources counted within one second

  struct Hooks {
    std::function<void(const SourceRules&)> apply;        // the agent's filter
    std::function<std::vector<std::string>()> known;      // addresses our phones registered from
    std::function<uint64_t()> dropped;                    // the kernel's drop counter
  };

  FloodGuard(su_root_t* root, std::string side, FloodLimits limits, Hooks hooks);
  FloodGuard(const FloodGuard&) = delete;
  FloodGuard& operator=(const FloodGuard&) = delete;

  void set_limits(const FloodLimits& limits) { limits_ = limits; }

  // The LAN filter is the guard's: others add to it through these.
  // Only these networks get in at all (lan.outside "drop"); nullopt: any.
  void let_in_only(std::optional<std::vector<config::Network>> networks);
  // `source` gets nothing for `seconds` (a password guesser the registrar blocked: a request
  // held unanswered would get the stack's 500 in the end, a dropped packet gets nothing).
  void deny_for(const std::string& source, int64_t seconds);

  // Every request the agent receives, with its source address.
  void on_request(const std::string& source);

  struct Counts {
    uint64_t sources_blocked_total = 0;
    size_t sources_blocked_now = 0;
    uint64_t shields_total = 0;
    bool shield_on = false;
  };
  Counts counts() const;

  // The second's end (the timer calls it; tests may too, with their own clock).
  void tick(int64_t now_s);

 private:
  void block(const std::string& source, unsigned rate, int64_t now_s);
  void shield_on();
  void apply();

  std::string side_;
  FloodLimits limits_;
  Hooks hooks_;
  Timer timer_;
  std::map<std::string, unsigned> this_second_;
  unsigned total_this_second_ = 0;
  std::map<std::string, int64_t> blocked_until_;
  bool shield_ = false;
  std::optional<std::vector<config::Network>> base_allow_;
  int quiet_seconds_ = 0;
  uint64_t dropped_before_ = 0;
  uint64_t sources_blocked_total_ = 0;
  uint64_t shields_total_ = 0;
};

}  // namespace b2bua::sip
