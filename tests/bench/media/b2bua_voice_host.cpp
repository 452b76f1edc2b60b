// Runs b2bua's media plane with ONE worker for the voice-session benchmark (voice_run.sh), in
// one of two modes, so the answering machine and the relay are measured by the same host:
//   relay  one relay session per call, leg 0/1 pointed at the generator's endpoints 2k/2k+1
//          (what b2bua_relay_host does, but with workers=1)
//   voice  one voice session per generator endpoint k (the caller): set_voice_format(PCMU),
//          set_remote(endpoint k), play a shared 10 s speech-like prompt (queued --repeat times
//          back to back so it plays through the whole measured window), record(max 60 s)
// Handshake as in the relay bench: the generator writes its ports, this host writes the
// "<send-to port> <expect-from port>" lines the generator must use, then runs until SIGTERM.
// On SIGTERM it stops the plane and prints one key=value line: what the voice sessions reported
// (prompts played, recordings and their total length), so the run can check the work was done.
// Voice sessions start spread evenly over one packet time (20 ms), as calls arriving at random
// would: the worker then wakes for a few sessions at a time, not for all of them at once (the
// generator spreads the relayed calls' packets the same way). "clustered" starts them back to back.
// Usage: b2bua_voice_host relay|voice <port_min> <port_max> <generator ports file> <pairs file>
//        [prompt repeats, default 3] [spread|clustered, default spread]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "host_support.h"
#include "media/media_plane.h"

using namespace b2bua::media;

namespace {
class Counting : public MediaEvents {
 public:
  void on_latched(SessionId, int, const Endpoint&) override { latched.fetch_add(1, std::memory_order_relaxed); }
  void on_media_timeout(SessionId) override {}
  void on_released(SessionId, const std::array<LegStats, 2>&) override {}
  void on_one_way_audio(SessionId, int, const std::array<LegStats, 2>&) override {}
  void on_voice(SessionId, VoiceEvent event) override {
    if (event.kind == VoiceEvent::Kind::played) played.fetch_add(1, std::memory_order_relaxed);
    if (event.kind == VoiceEvent::Kind::recorded) {
      recordings.fetch_add(1, std::memory_order_relaxed);
      recorded_samples.fetch_add(event.recording.samples.size(), std::memory_order_relaxed);
    }
    if (event.kind == VoiceEvent::Kind::dtmf) digits.fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<uint64_t> latched{0}, played{0}, recordings{0}, recorded_samples{0}, digits{0};
};

// 10 s of speech-like sound: a 120 Hz voiced source with a few formant-ish harmonics and some
// noise, its loudness following a ~4 Hz syllable envelope with pauses. Deterministic.
AudioPtr make_prompt(double seconds) {
  auto a = std::make_shared<Audio>();
  const auto n = static_cast<size_t>(seconds * kAudioRate);
  a->samples.resize(n);
  uint32_t rng = 12345;
  for (size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / kAudioRate;
    const double f0 = 120 + 15 * std::sin(2 * M_PI * 0.7 * t);
    double v = 0;
    for (int h = 1; h <= 8; ++h) {
      const double formant = (h == 4 || h == 6) ? 1.0 : 0.35;  // ~500 Hz and ~700 Hz stronger
      v += formant / h * std::sin(2 * M_PI * f0 * h * t);
    }
    rng = rng * 1664525u + 1013904223u;
    v += 0.2 * (static_cast<double>(rng >> 8) / (1u << 24) - 0.5);
    const double syl = std::max(0.0, std::sin(2 * M_PI * 4.0 * t));
    const double phrase = std::fmod(t, 2.5) < 2.0 ? 1.0 : 0.05;  // a pause every 2.5 s
    a->samples[i] = static_cast<int16_t>(std::lround(6000 * v * syl * phrase));
  }
  return a;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s relay|voice port_min port_max gen_ports pairs [repeats]\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  const int repeats = argc > 6 ? std::atoi(argv[6]) : 3;
  const bool spread = argc <= 7 || std::string(argv[7]) != "clustered";
  const sigset_t stop = bench_host::block_stop_signals();
  MediaSettings s = bench_host::settings(argv[2], argv[3]);
  s.workers = 1;
  Counting events;
  auto plane = start_media_plane(s, events);
  const AudioPtr prompt = make_prompt(10.0);

  const std::vector<uint16_t> gen = bench_host::generator_ports(argv[4]);
  bench_host::PairsFile pairs(argv[5]);
  if (mode == "relay") {
    if (!bench_host::relay_calls(*plane, gen, pairs, "voice host")) return 1;
  } else if (mode == "voice") {
    RecordSpec spec;
    spec.max_ms = 60000;
    const auto start = std::chrono::steady_clock::now();
    for (size_t k = 0; k < gen.size(); ++k) {
      const uint16_t port = gen[k];
      if (spread) std::this_thread::sleep_until(start + std::chrono::microseconds(20000 * k / gen.size()));
      auto r = plane->allocate_voice(LegSpec{"127.0.0.1"});
      if (auto* e = std::get_if<AllocationError>(&r)) {
        std::fprintf(stderr, "voice host: %s\n", e->reason.c_str());
        return 1;
      }
      const Allocation& a = std::get<Allocation>(r);
      plane->set_voice_format(a.id, VoiceFormat{0, -1});
      RemoteMedia remote;
      Endpoint::parse("127.0.0.1", port, remote.rtp);
      plane->set_remote(a.id, 0, remote);
      for (int i = 0; i < repeats; ++i) plane->play(a.id, prompt, static_cast<uint32_t>(i));
      plane->record(a.id, spec);
      pairs.add(a.legs[0].rtp_port);
    }
  } else {
    std::fprintf(stderr, "voice host: unknown mode %s\n", mode.c_str());
    return 2;
  }
  pairs.commit();
  bench_host::wait_for_stop(stop);
  plane->stop();  // releases the sessions: each running recording reports first
  std::printf("host_mode=%s sessions=%zu latched=%llu played=%llu recordings=%llu recorded_s=%.1f digits=%llu\n",
              mode.c_str(), mode == "relay" ? gen.size() / 2 : gen.size(),
              static_cast<unsigned long long>(events.latched.load()),
              static_cast<unsigned long long>(events.played.load()),
              static_cast<unsigned long long>(events.recordings.load()),
              static_cast<double>(events.recorded_samples.load()) / kAudioRate,
              static_cast<unsigned long long>(events.digits.load()));
  std::fflush(stdout);
  return 0;
}
