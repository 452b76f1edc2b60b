// Monotonic time in nanoseconds: the media plane's only clock (timeouts, latching, jitter).
#pragma once

#include <time.h>

#include <cstdint>

namespace b2bua::media {

using TimeNs = int64_t;

constexpr TimeNs kNsPerMs = 1'000'000;
constexpr TimeNs kNsPerSec = 1'000'000'000;

inline TimeNs monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return TimeNs{ts.tv_sec} * kNsPerSec + ts.tv_nsec;
}

}  // namespace b2bua::media
