// Shared by the media plane's tests of relay and voice sessions (gtest): a plane for a test's
// port range, allocations that must succeed, and the session's statistics on the test's thread.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <future>
#include <variant>

#include "media/media_plane.h"

namespace b2bua::media::test {

// Each test has its own port range (ctest runs them as parallel processes); ports are reused at
// once, so a test may allocate again what it released.
inline MediaSettings plane_settings(uint16_t first_port, uint16_t last_port) {
  MediaSettings s;
  s.port_min = first_port;
  s.port_max = last_port;
  s.quarantine_s = 0;
  s.workers = 2;
  return s;
}

// The allocation; an error fails the test (and std::get then ends it).
inline Allocation allocated(const AllocateResult& r) {
  if (const auto* e = std::get_if<AllocationError>(&r)) ADD_FAILURE() << e->reason;
  return std::get<Allocation>(r);
}

// The session's statistics as its worker has them now (commands are ordered: everything sent to
// the plane before is in effect).
inline std::array<LegStats, 2> query_now(MediaPlane& plane, SessionId id) {
  std::promise<std::array<LegStats, 2>> p;
  plane.query(id,
              [](void* ctx, SessionId, const std::array<LegStats, 2>& s) {
                static_cast<std::promise<std::array<LegStats, 2>>*>(ctx)->set_value(s);
              },
              &p);
  auto f = p.get_future();
  EXPECT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  return f.get();
}

}  // namespace b2bua::media::test
