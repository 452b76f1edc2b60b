// Runs b2bua's media plane for the benchmark: allocates one session per call, points leg 0 and
// leg 1 at the generator's endpoints 2k and 2k+1 (ports read from a file), writes the relay
// ports the generator must use, and relays until SIGTERM.
// Usage: b2bua_relay_host <port_min> <port_max> <generator ports file> <pairs file to write>
#include <cstdint>
#include <vector>

#include "host_support.h"
#include "media/media_plane.h"

using namespace b2bua::media;

namespace {
class NoEvents : public MediaEvents {
  void on_latched(SessionId, int, const Endpoint&) override {}
  void on_media_timeout(SessionId) override {}
  void on_released(SessionId, const std::array<LegStats, 2>&) override {}
  void on_one_way_audio(SessionId, int, const std::array<LegStats, 2>&) override {}
  void on_voice(SessionId, VoiceEvent) override {}
};
}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) return 2;
  const sigset_t stop = bench_host::block_stop_signals();
  NoEvents events;
  auto plane = start_media_plane(bench_host::settings(argv[1], argv[2]), events);

  const std::vector<uint16_t> gen = bench_host::generator_ports(argv[3]);
  bench_host::PairsFile pairs(argv[4]);
  if (!bench_host::relay_calls(*plane, gen, pairs, "relay host")) return 1;
  pairs.commit();
  bench_host::wait_for_stop(stop);
  plane->stop();
  return 0;
}
