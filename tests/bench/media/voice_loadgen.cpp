// Load generator of the voice-session benchmark (voice_run.sh): plays the callers.
//   --mode voice  N endpoints, endpoint k is the caller of voice session k: it sends a 20 ms
//                 PCMU packet every 20 ms (speech-like noise) and receives the session's prompt
//   --mode relay  2N endpoints, 2k and 2k+1 the two ends of relayed call k, each sending a
//                 20 ms PCMU packet every 20 ms (the same 50 packets/s each way per call)
// Each endpoint binds an ephemeral port on 127.0.0.1 (written to --ports-out), then reads
// --pairs, one line per endpoint: "<send-to port> <expect-from port>".
//
// Sender jitter: every packet's arrival is stamped by the kernel (SO_TIMESTAMPNS, so the
// generator's own scheduling does not show); per endpoint, |arrival interval - 20 ms| of
// consecutive packets goes into one histogram. A "late" interval deviates by more than 5 ms (a
// lost packet shows as a 40 ms interval: late too).
// CPU: the host process's run time summed over its threads (/proc/PID/task/*/schedstat, ns)
// over the measured window, per session-second (a relayed call counts as one session). Next to
// it, how long the host waited for a CPU while runnable and how often it was preempted: on a
// shared machine that, not the host's own work, is what makes packets late. "late_episodes":
// distinct 100 ms slots holding a late arrival (one stall of the host delays every stream at once).
// Output: one line of key=value.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "loadgen_support.h"

namespace {

using loadgen::kFrame;
using loadgen::now_ns;
using loadgen::Ns;

constexpr Ns kLate = 5'000'000;
constexpr Ns kEpisode = 100'000'000;  // late intervals within one 100 ms slot of arrival time: one episode
constexpr size_t kFrames = 50;  // distinct payloads the callers cycle through

struct Endpoint : loadgen::Socket {
  uint16_t seq = 0;
  uint64_t late = 0, seq_lost = 0;
  Ns last_arrival = 0;  // kernel time of the previous packet (0: none in this window)
  int last_seq = -1;
};

struct Options : loadgen::CommonOptions {
  Options() : CommonOptions("voice", 8) {}
  size_t sessions = 10;
};

// G.711 mu-law of a linear sample (ITU-T G.711, the usual bias-and-segment encoder).
uint8_t ulaw(int pcm) {
  const int sign = pcm < 0 ? 0x80 : 0;
  int mag = std::min(std::abs(pcm), 32635) + 0x84;
  int exp = 7;
  for (int mask = 0x4000; (mag & mask) == 0 && exp > 0; mask >>= 1) --exp;
  const int mant = (mag >> (exp + 3)) & 0x0F;
  return static_cast<uint8_t>(~(sign | (exp << 4) | mant));
}

class Generator {
 public:
  explicit Generator(const Options& o)
      : o_(o), eps_(o.mode == "relay" ? o.sessions * 2 : o.sessions) {
    // Speech-like noise: a syllable envelope over filtered noise, 1 s cycled.
    uint32_t rng = 777;
    double lp = 0;
    for (size_t f = 0; f < kFrames; ++f) {
      for (size_t i = 0; i < 160; ++i) {
        rng = rng * 1664525u + 1013904223u;
        lp = 0.7 * lp + 0.3 * (static_cast<double>(rng >> 8) / (1u << 24) - 0.5);
        const double env = 0.2 + 0.8 * std::abs(std::sin(3.14159 * 4.0 * static_cast<double>(f * 160 + i) / 8000.0));
        payload_[f][i] = ulaw(static_cast<int>(20000 * lp * env));
      }
    }
  }

  bool setup() { return loadgen::connect_to_host(eps_, rx_.epoll_fd(), o_, true, "voice loadgen", cpu_pid_); }

  void run() {
    paced(o_.prime);  // both ends latched, prompts flowing; then drop the counters
    reset();
    const loadgen::HostSched h0 = cpu_pid_ ? loadgen::host_sched(cpu_pid_) : loadgen::HostSched{};
    const Ns t0 = now_ns();
    paced(o_.duration);
    const Ns t1 = now_ns();
    const loadgen::HostSched h1 = cpu_pid_ ? loadgen::host_sched(cpu_pid_) : loadgen::HostSched{};
    const uint64_t cpu0 = h0.run_ns, cpu1 = h1.run_ns;
    uint64_t sent = 0, received = 0, wrong = 0, late = 0, lost = 0, late_eps = 0;
    uint64_t min_rx = eps_.empty() ? 0 : UINT64_MAX;
    for (auto& e : eps_) {
      sent += e.sent;
      received += e.received;
      wrong += e.wrong_from;
      late += e.late;
      lost += e.seq_lost;
      late_eps += e.late != 0;
      min_rx = std::min(min_rx, e.received);
    }
    const double secs = static_cast<double>(t1 - t0) / 1e9;
    const double cpu_s = static_cast<double>(cpu1 - cpu0) / 1e9;
    std::printf("mode=%s sessions=%zu secs=%.2f sent=%llu received=%llu min_rx=%llu loss_pct=%.4f seq_lost=%llu "
                "wrong_from=%llu intervals=%llu jit_p50_ms=%.2f jit_p99_ms=%.2f jit_max_ms=%.2f late=%llu "
                "late_streams=%llu late_episodes=%zu host_runq_wait_ms=%.1f host_preempted=%llu host_cpu_s=%.4f cpu_us_per_session_s=%.1f host_rss_kb=%ld\n",
                o_.mode.c_str(), o_.sessions, secs, static_cast<unsigned long long>(sent),
                static_cast<unsigned long long>(received), static_cast<unsigned long long>(min_rx),
                sent ? 100.0 * (1.0 - static_cast<double>(received) / static_cast<double>(sent)) : 0.0,
                static_cast<unsigned long long>(lost), static_cast<unsigned long long>(wrong),
                static_cast<unsigned long long>(hist_.count()), hist_.pct_us(0.5) / 1000.0, hist_.pct_us(0.99) / 1000.0,
                static_cast<double>(hist_.max()) / 1e6, static_cast<unsigned long long>(late),
                static_cast<unsigned long long>(late_eps), late_buckets_.size(),
                static_cast<double>(h1.wait_ns - h0.wait_ns) / 1e6,
                static_cast<unsigned long long>(h1.nvcsw - h0.nvcsw), cpu_s,
                o_.sessions && secs > 0 ? cpu_s * 1e6 / (static_cast<double>(o_.sessions) * secs) : 0.0,
                cpu_pid_ ? loadgen::proc_rss_kb(cpu_pid_) : 0L);
  }

 private:
  void reset() {
    for (auto& e : eps_) {
      e.sent = e.received = e.wrong_from = e.late = e.seq_lost = 0;
      e.last_arrival = 0;
      e.last_seq = -1;
    }
    hist_.clear();
    late_buckets_.clear();
  }

  void send_one(size_t i) {
    Endpoint& e = eps_[i];
    const uint16_t seq = e.seq++;
    loadgen::Packet p = loadgen::pcmu_packet(seq, uint32_t{seq} * 160, static_cast<uint32_t>(i + 1));
    std::memcpy(p.data() + 12, payload_[(seq + i) % kFrames].data(), 160);
    loadgen::send_packet(e, p);
  }

  void arrived(Endpoint& e, const uint8_t* data, size_t len, Ns at) {
    if (len < 12 || (data[0] >> 6) != 2 || (data[1] & 0x7F) >= 72) return;  // keep-alives, RTCP
    ++e.received;
    const int seq = (data[2] << 8) | data[3];
    if (e.last_seq >= 0) {
      const int gap = (seq - e.last_seq - 1) & 0xFFFF;
      if (gap < 1000) e.seq_lost += static_cast<uint64_t>(gap);
    }
    e.last_seq = seq;
    if (e.last_arrival != 0) {
      const Ns dev = std::abs(at - e.last_arrival - kFrame);
      hist_.add(dev);
      if (dev > kLate) {
        ++e.late;
        late_buckets_.insert(at / kEpisode);
      }
    }
    e.last_arrival = at;
  }

  void poll_receive(int wait_ms) {
    rx_.poll(eps_, wait_ms, [this](Endpoint& e, const uint8_t* data, size_t len, uint16_t from, Ns at) {
      if (from != e.expect_from) {
        ++e.wrong_from;
        return;
      }
      arrived(e, data, len, at);
    });
  }

  void paced(double seconds) {
    loadgen::paced(eps_.size(), seconds, [this](size_t i) { send_one(i); }, [this](int ms) { poll_receive(ms); });
  }

  Options o_;
  std::vector<Endpoint> eps_;
  loadgen::BatchReceiver rx_;
  int cpu_pid_ = 0;
  loadgen::Histogram hist_{10, 100'000};  // 10 us buckets up to 1 s
  std::set<Ns> late_buckets_;
  std::array<std::array<uint8_t, 160>, kFrames> payload_{};
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  const bool known = loadgen::parse_options(argc, argv, o, [&o](const std::string& k, const std::string& v) {
    if (k != "--sessions") return false;
    o.sessions = std::stoul(v);
    return true;
  });
  if (!known) return 2;
  if (o.mode != "voice" && o.mode != "relay") {
    std::fprintf(stderr, "--mode voice|relay\n");
    return 2;
  }
  Generator g(o);
  if (!g.setup()) return 1;
  g.run();
  return 0;
}
