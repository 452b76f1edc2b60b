// How many records of refused call attempts may be written: a token bucket, a burst of `burst`
// and then `per_second`. Placed calls are always recorded; only refusals (a password-guessing
// or toll-fraud flood) can come faster than a person dials, and each would be a row on a
// router's RAM-backed /var. Threads: the SIP thread (the calls feature owns one).
#pragma once

#include <cstdint>

namespace b2bua::calls {

class RecordBudget {
 public:
  RecordBudget(double burst, double per_second) : burst_(burst), per_second_(per_second), tokens_(burst) {}

  enum class Take {
    granted,
    granted_again,  // granted, and the first after a run of suppressed ones (log the end)
    suppressed,
    first_suppressed,  // suppressed, and the first of a run (log the start)
  };
  Take take(int64_t now_ms);
  uint64_t suppressed_total() const { return suppressed_; }

 private:
  double burst_;
  double per_second_;
  double tokens_;
  int64_t last_ms_ = -1;
  uint64_t suppressed_ = 0;
  bool suppressing_ = false;
};

}  // namespace b2bua::calls
