#include "b2bua/trunk/retry_policy.h"

#include <algorithm>
#include <random>

namespace b2bua::trunk {
namespace {
constexpr unsigned kFirstBackoffMs = 2000;
constexpr double kJitter = 0.2;
}  // namespace

double RetryPolicy::uniform01() {
  thread_local std::mt19937 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

RetryPolicy::RetryPolicy(int auth_failed_s, int max_backoff_s, std::function<double()> random01)
    : auth_failed_s_(auth_failed_s), max_backoff_s_(max_backoff_s), random01_(std::move(random01)) {}

unsigned RetryPolicy::backoff_ms() {
  unsigned exponent = std::min(failures_, 16u);
  double base = static_cast<double>(kFirstBackoffMs) * static_cast<double>(1u << exponent);
  double cap = static_cast<double>(max_backoff_s_) * 1000.0;
  base = std::min(base, cap);
  double jittered = base * (1.0 - kJitter + 2.0 * kJitter * random01_());
  ++failures_;
  return static_cast<unsigned>(std::min(jittered, cap));
}

RetryDecision RetryPolicy::on_failure(int status, std::optional<unsigned> retry_after_s, bool bad_credentials,
                                      bool another_server_left) {
  RetryDecision d;
  if (bad_credentials || status == 403 || status == 404) {
    d.state = TrunkState::auth_failed;
    d.delay_ms = static_cast<unsigned>(auth_failed_s_) * 1000u;
    return d;
  }
  d.state = TrunkState::backoff;
  if (status == 503 && retry_after_s) {
    // The provider tells us when it is ready; a day is the most we believe.
    d.delay_ms = std::min(*retry_after_s, 86400u) * 1000u;
    return d;
  }
  bool server_trouble = status == 408 || status >= 500;
  if (server_trouble && another_server_left) {
    d.next_server = true;
    d.delay_ms = 0;
    return d;
  }
  d.next_server = server_trouble;
  d.delay_ms = backoff_ms();
  return d;
}

}  // namespace b2bua::trunk
