// Runs b2bua's media plane for the benchmark: allocates one session per call, points leg 0 and
// leg 1 at the generator's endpoints 2k and 2k+1 (ports read from a file), writes the relay
// ports the generator must use, and relays until SIGTERM.
// Usage: b2bua_relay_host <port_min> <port_max> <generator ports file> <pairs file to write>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <vector>

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
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before the workers start: they inherit it

  MediaSettings s;
  s.port_min = static_cast<uint16_t>(std::atoi(argv[1]));
  s.port_max = static_cast<uint16_t>(std::atoi(argv[2]));
  s.timeout_s = 3600;
  s.quarantine_s = 0;
  NoEvents events;
  auto plane = start_media_plane(s, events);

  std::vector<uint16_t> gen;
  for (int waited = 0; waited < 600 && gen.empty(); ++waited) {
    std::ifstream f(argv[3]);
    for (unsigned p = 0; f >> p;) gen.push_back(static_cast<uint16_t>(p));
    if (gen.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::ofstream out(std::string(argv[4]) + ".tmp");
  for (size_t k = 0; k + 1 < gen.size(); k += 2) {
    auto r = plane->allocate(LegSpec{"127.0.0.1"}, LegSpec{"127.0.0.1"});
    if (auto* e = std::get_if<AllocationError>(&r)) {
      std::fprintf(stderr, "relay host: %s\n", e->reason.c_str());
      return 1;
    }
    const Allocation& a = std::get<Allocation>(r);
    for (int leg = 0; leg < 2; ++leg) {
      RemoteMedia remote;
      Endpoint::parse("127.0.0.1", gen[k + static_cast<size_t>(leg)], remote.rtp);
      plane->set_remote(a.id, leg, remote);
      out << a.legs[static_cast<size_t>(leg)].rtp_port << " " << a.legs[static_cast<size_t>(leg)].rtp_port << "\n";
    }
  }
  out.close();
  std::rename((std::string(argv[4]) + ".tmp").c_str(), argv[4]);
  int sig = 0;
  sigwait(&set, &sig);
  plane->stop();
  return 0;
}
