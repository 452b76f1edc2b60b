// Relay-agnostic RTP load generator. Endpoints 2k and 2k+1 are the two ends of call k; each binds
// an ephemeral port on 127.0.0.1 (written to --ports-out so the relay under test can be told),
// then reads --pairs: one line per endpoint, "<send-to port> <expect-from port>" on 127.0.0.1.
// Every packet is 172 bytes (12 RTP + 160 PCMU payload) carrying its send time and stream.
//
// Modes (all measure after a priming phase that lets relays latch both ends):
//   paced    every endpoint sends one packet per 20 ms, phases spread evenly
//   window   as fast as possible with at most --window packets in flight per stream (the
//            highest loss-free rate the relay sustains)
//   overload open-loop at --rate packets/s for --burst s, then paced for --duration s: how many
//            streams recover
// Output: one line of key=value. --cpu-pid: CPU time and RSS of that process over the window.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "loadgen_support.h"

namespace {

using loadgen::kFrame;
using loadgen::kPacket;
using loadgen::now_ns;
using loadgen::Ns;

struct Endpoint : loadgen::Socket {
  uint32_t seq = 0;
};

struct Options : loadgen::CommonOptions {
  Options() : CommonOptions("paced", 5) {}
  size_t calls = 10;
  double burst = 3, rate = 0;
  unsigned window = 4;
  int cpu_pid = 0;
};

class Generator {
 public:
  explicit Generator(const Options& o) : o_(o), eps_(o.calls * 2) {}

  bool setup() { return loadgen::connect_to_host(eps_, rx_.epoll_fd(), o_, false, "loadgen", o_.cpu_pid); }

  void run() {
    // Priming: paced traffic so every relay has latched both ends, then drop the counters.
    paced(o_.prime);
    drain(300'000'000);
    reset();
    char extra[256] = "";
    const uint64_t cpu0 = o_.cpu_pid ? loadgen::proc_cpu_ticks(o_.cpu_pid) : 0;
    const Ns t0 = now_ns();
    if (o_.mode == "paced") {
      paced(o_.duration);
    } else if (o_.mode == "window") {
      window(o_.duration);
    } else {
      open_loop(o_.burst, o_.rate);
      drain(500'000'000);
      const uint64_t burst_sent = total_sent(), burst_received = total_received();
      reset();
      paced(o_.duration);
      drain(300'000'000);
      size_t recovered = 0;
      const auto expected = static_cast<uint64_t>(o_.duration * 1e9 / static_cast<double>(kFrame));
      for (size_t i = 0; i < eps_.size(); ++i) recovered += eps_[i].received * 10 >= expected * 9;
      std::snprintf(extra, sizeof extra, " burst_sent=%llu burst_received=%llu streams=%zu recovered=%zu",
                    static_cast<unsigned long long>(burst_sent), static_cast<unsigned long long>(burst_received),
                    eps_.size(), recovered);
    }
    const Ns t1 = now_ns();
    drain(300'000'000);
    const uint64_t cpu1 = o_.cpu_pid ? loadgen::proc_cpu_ticks(o_.cpu_pid) : 0;
    const uint64_t sent = total_sent(), received = total_received();
    uint64_t wrong = 0;
    for (auto& e : eps_) wrong += e.wrong_from;
    const double secs = static_cast<double>(t1 - t0) / 1e9;
    const double cpu_s = static_cast<double>(cpu1 - cpu0) / static_cast<double>(sysconf(_SC_CLK_TCK));
    std::printf("mode=%s calls=%zu sent=%llu received=%llu loss_pct=%.4f pps=%.0f p50_us=%.0f p99_us=%.0f "
                "wrong_from=%llu relay_cpu_s=%.2f cpu_us_per_pkt=%.2f relay_rss_kb=%ld%s\n",
                o_.mode.c_str(), o_.calls, static_cast<unsigned long long>(sent),
                static_cast<unsigned long long>(received),
                sent ? 100.0 * (1.0 - static_cast<double>(received) / static_cast<double>(sent)) : 0.0,
                static_cast<double>(received) / secs, hist_.pct_us(0.5), hist_.pct_us(0.99),
                static_cast<unsigned long long>(wrong), cpu_s, received ? cpu_s * 1e6 / static_cast<double>(received) : 0.0,
                o_.cpu_pid ? loadgen::proc_rss_kb(o_.cpu_pid) : 0L, extra);
  }

 private:
  uint64_t total_sent() const {
    uint64_t n = 0;
    for (auto& e : eps_) n += e.sent;
    return n;
  }
  uint64_t total_received() const {
    uint64_t n = 0;
    for (auto& e : eps_) n += e.received;
    return n;
  }
  void reset() {
    for (auto& e : eps_) e.sent = e.received = e.wrong_from = 0;
    hist_.clear();
  }

  void send_one(size_t i) {
    Endpoint& e = eps_[i];
    const uint32_t seq = e.seq++;
    loadgen::Packet p = loadgen::pcmu_packet(static_cast<uint16_t>(seq), seq * 160, static_cast<uint32_t>(i + 1));
    const Ns t = now_ns();
    std::memcpy(p.data() + 12, &t, sizeof t);
    loadgen::send_packet(e, p);
  }

  // Reads everything ready, waiting at most `wait_ms`.
  void poll_receive(int wait_ms) {
    rx_.poll(eps_, wait_ms, [this](Endpoint& e, const uint8_t* data, size_t len, uint16_t from, Ns at) {
      if (len != kPacket) return;  // relay keep-alives and RTCP are not ours
      if (from != e.expect_from) {
        ++e.wrong_from;
        return;
      }
      Ns sent_at = 0;
      std::memcpy(&sent_at, data + 12, sizeof sent_at);
      hist_.add(at - sent_at);
      ++e.received;
    });
  }

  void drain(Ns for_ns) {
    const Ns end = now_ns() + for_ns;
    while (now_ns() < end) poll_receive(10);
  }

  void paced(double seconds) {
    loadgen::paced(eps_.size(), seconds, [this](size_t i) { send_one(i); }, [this](int ms) { poll_receive(ms); });
  }

  void window(double seconds) {
    const Ns end = now_ns() + static_cast<Ns>(seconds * 1e9);
    while (now_ns() < end) {
      for (size_t i = 0; i < eps_.size(); ++i) {
        Endpoint& peer = eps_[i ^ 1];
        while (eps_[i].sent < peer.received + o_.window) send_one(i);
      }
      poll_receive(0);
    }
  }

  void open_loop(double seconds, double rate) {
    const Ns start = now_ns();
    const Ns end = start + static_cast<Ns>(seconds * 1e9);
    uint64_t slot = 0;
    while (now_ns() < end) {
      const auto due = static_cast<uint64_t>(static_cast<double>(now_ns() - start) / 1e9 * rate);
      for (int burst = 0; slot < due && burst < 256; ++burst, ++slot) send_one(slot % eps_.size());
      poll_receive(0);
    }
  }

  Options o_;
  std::vector<Endpoint> eps_;
  loadgen::BatchReceiver rx_;
  loadgen::Histogram hist_{1, 50'000};  // 1 us buckets up to 50 ms
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  const bool known = loadgen::parse_options(argc, argv, o, [&o](const std::string& k, const std::string& v) {
    if (k == "--calls") o.calls = std::stoul(v);
    else if (k == "--burst") o.burst = std::stod(v);
    else if (k == "--rate") o.rate = std::stod(v);
    else if (k == "--window") o.window = static_cast<unsigned>(std::stoul(v));
    else if (k == "--cpu-pid") o.cpu_pid = std::stoi(v);
    else return false;
    return true;
  });
  if (!known) return 2;
  Generator g(o);
  if (!g.setup()) return 1;
  g.run();
  return 0;
}
