// When to try again after a failed REGISTER. Ours, not sofia's: after one failed refresh (403,
// 408, 503, ...) nua reports nua_r_register with that status once and never refreshes again,
// and peers that give up after N failures or a 403 leave their users with a silently dead
// trunk. We never give up and never hammer:
//  - 403/404, or a second challenge after we answered one: auth_failed, retried every
//    `auth_failed_s` seconds (the account is wrong or locked; hammering could get it banned);
//  - 503 with Retry-After: exactly as long as the provider asks (RFC 3261 21.5.4);
//  - timeouts, 5xx and everything else: another server first if one is left in this round,
//    then exponential backoff from 2 s, capped at `max_backoff_s`, with ±20 % jitter so that
//    many routers behind one provider outage do not return in lockstep.
#pragma once

#include <functional>
#include <optional>

#include "b2bua/trunk/trunk_state.h"

namespace b2bua::trunk {

struct RetryDecision {
  TrunkState state = TrunkState::backoff;  // auth_failed or backoff
  unsigned delay_ms = 0;                   // 0: at once (next server)
  bool next_server = false;                // fail over before waiting
};

class RetryPolicy {
 public:
  // `random01` returns a value in [0, 1) for the jitter; tests pass a fixed one.
  RetryPolicy(int auth_failed_s, int max_backoff_s, std::function<double()> random01 = uniform01);
  // A uniformly distributed value in [0, 1), from a generator per thread.
  static double uniform01();

  // `bad_credentials`: a challenge came back after we had answered one.
  RetryDecision on_failure(int status, std::optional<unsigned> retry_after_s, bool bad_credentials,
                           bool another_server_left);
  void on_success() { failures_ = 0; }
  unsigned failures() const { return failures_; }

  void set_limits(int auth_failed_s, int max_backoff_s) {
    auth_failed_s_ = auth_failed_s;
    max_backoff_s_ = max_backoff_s;
  }

 private:
  unsigned backoff_ms();

  int auth_failed_s_;
  int max_backoff_s_;
  std::function<double()> random01_;
  unsigned failures_ = 0;  // consecutive backoff failures (timeouts/5xx), for the exponent
};

}  // namespace b2bua::trunk
