// Wall-clock time as the product records it: call records, binding expiry and registration
// deadlines are Unix times (they are stored and shown to people, so they follow the system
// clock). Intervals that must not jump with the clock (RTT, bounds) use steady_clock directly.
#pragma once

#include <chrono>
#include <cstdint>

namespace b2bua::clock {

inline int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline int64_t unix_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace b2bua::clock
