// What the benchmark hosts of b2bua's media plane (b2bua_relay_host, b2bua_voice_host) have in
// common: stopping on SIGTERM, the handshake with the load generator (its ports in, the
// "<send-to port> <expect-from port>" lines it must use out) and relayed calls between its
// endpoints.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "media/media_plane.h"

namespace b2bua::media::bench_host {

// SIGTERM and SIGINT are taken by wait_for_stop(); blocked before the plane starts, so that its
// workers inherit the mask and none of them is killed by the signal.
inline sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

inline void wait_for_stop(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
}

// A plane on the given ports that never times a session out and reuses ports at once: the
// benchmark sets its sessions up once and tears them down with the process.
inline MediaSettings settings(const char* port_min, const char* port_max) {
  MediaSettings s;
  s.port_min = static_cast<uint16_t>(std::atoi(port_min));
  s.port_max = static_cast<uint16_t>(std::atoi(port_max));
  s.timeout_s = 3600;
  s.quarantine_s = 0;
  return s;
}

// The generator's endpoint ports, one a line: waits up to 60 s for the file.
inline std::vector<uint16_t> generator_ports(const char* path) {
  std::vector<uint16_t> gen;
  for (int waited = 0; waited < 600 && gen.empty(); ++waited) {
    std::ifstream f(path);
    for (unsigned p = 0; f >> p;) gen.push_back(static_cast<uint16_t>(p));
    if (gen.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return gen;
}

// The pairs file, written under another name and renamed into place when complete: the
// generator starts as soon as it sees the file.
class PairsFile {
 public:
  explicit PairsFile(std::string path) : path_(std::move(path)), out_(path_ + ".tmp") {}
  // The generator endpoint on this line sends to and expects from this relay port.
  void add(uint16_t relay_port) { out_ << relay_port << " " << relay_port << "\n"; }
  void commit() {
    out_.close();
    std::rename((path_ + ".tmp").c_str(), path_.c_str());
  }

 private:
  std::string path_;
  std::ofstream out_;
};

// One relayed call per pair of generator endpoints 2k and 2k+1, leg 0 pointed at the first and
// leg 1 at the second. False (reason on stderr, prefixed by `who`) when a session cannot be had.
inline bool relay_calls(MediaPlane& plane, const std::vector<uint16_t>& gen, PairsFile& pairs, const char* who) {
  for (size_t k = 0; k + 1 < gen.size(); k += 2) {
    auto r = plane.allocate(LegSpec{"127.0.0.1"}, LegSpec{"127.0.0.1"});
    if (auto* e = std::get_if<AllocationError>(&r)) {
      std::fprintf(stderr, "%s: %s\n", who, e->reason.c_str());
      return false;
    }
    const Allocation& a = std::get<Allocation>(r);
    for (int leg = 0; leg < 2; ++leg) {
      RemoteMedia remote;
      Endpoint::parse("127.0.0.1", gen[k + static_cast<size_t>(leg)], remote.rtp);
      plane.set_remote(a.id, leg, remote);
      pairs.add(a.legs[static_cast<size_t>(leg)].rtp_port);
    }
  }
  return true;
}

}  // namespace b2bua::media::bench_host
