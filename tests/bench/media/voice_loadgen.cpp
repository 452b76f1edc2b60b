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
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using Ns = int64_t;
Ns now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Ns{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

constexpr size_t kPacket = 172;  // 12 RTP + 160 PCMU
constexpr Ns kFrame = 20'000'000;
constexpr Ns kLate = 5'000'000;
constexpr Ns kEpisode = 100'000'000;  // late intervals within one 100 ms slot of arrival time: one episode
constexpr size_t kBatch = 32;
constexpr size_t kFrames = 50;  // distinct payloads the callers cycle through

struct Endpoint {
  int fd = -1;
  uint16_t local = 0;
  sockaddr_in send_to{};
  uint16_t expect_from = 0;
  uint16_t seq = 0;
  uint64_t sent = 0, received = 0, wrong_from = 0, late = 0, seq_lost = 0;
  Ns last_arrival = 0;  // kernel time of the previous packet (0: none in this window)
  int last_seq = -1;
};

struct Options {
  std::string mode = "voice";
  size_t sessions = 10;
  std::string pairs, ports_out, cpu_pid_file;
  double duration = 8, prime = 1;
};

struct Histogram {  // 10 us buckets up to 1 s
  std::vector<uint64_t> b = std::vector<uint64_t>(100'001, 0);
  uint64_t n = 0;
  Ns max = 0;
  void add(Ns ns) {
    ++b[static_cast<size_t>(std::clamp<Ns>(ns / 10'000, 0, 100'000))];
    ++n;
    max = std::max(max, ns);
  }
  double pct_ms(double p) const {
    const auto want = static_cast<uint64_t>(p * static_cast<double>(n));
    uint64_t acc = 0;
    for (size_t i = 0; i < b.size(); ++i) {
      acc += b[i];
      if (acc > want) return static_cast<double>(i) / 100.0;
    }
    return 1000;
  }
};

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Summed over every thread of `pid`: run time and time spent runnable but waiting for the CPU
// (/proc/.../schedstat, ns), and involuntary context switches (preempted by another task).
struct HostSched {
  uint64_t run_ns = 0, wait_ns = 0, nvcsw = 0;
};
HostSched host_sched(int pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  HostSched h;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::istringstream ss(read_file(dir + "/" + e->d_name + "/schedstat"));
      uint64_t run = 0, wait = 0;
      ss >> run >> wait;
      h.run_ns += run;
      h.wait_ns += wait;
      std::istringstream st(read_file(dir + "/" + e->d_name + "/status"));
      for (std::string line; std::getline(st, line);) {
        if (line.rfind("nonvoluntary_ctxt_switches:", 0) == 0) h.nvcsw += std::strtoull(line.c_str() + 27, nullptr, 10);
      }
    }
    closedir(d);
  }
  return h;
}

long proc_rss_kb(int pid) {
  std::istringstream f(read_file("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

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

  bool setup() {
    ep_fd_ = epoll_create1(0);
    std::ofstream ports(o_.ports_out + ".tmp");
    for (size_t i = 0; i < eps_.size(); ++i) {
      Endpoint& e = eps_[i];
      e.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (bind(e.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return false;
      socklen_t len = sizeof a;
      getsockname(e.fd, reinterpret_cast<sockaddr*>(&a), &len);
      e.local = ntohs(a.sin_port);
      const int buf = 1 << 20, on = 1;
      setsockopt(e.fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
      setsockopt(e.fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      epoll_ctl(ep_fd_, EPOLL_CTL_ADD, e.fd, &ev);
      ports << e.local << "\n";
    }
    ports.close();
    std::rename((o_.ports_out + ".tmp").c_str(), o_.ports_out.c_str());
    std::vector<std::pair<int, int>> pairs;
    for (int waited = 0; waited < 600; ++waited) {
      std::ifstream f(o_.pairs);
      pairs.clear();
      int s = 0, x = 0;
      while (f >> s >> x) pairs.emplace_back(s, x);
      if (pairs.size() >= eps_.size()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (pairs.size() < eps_.size()) {
      std::fprintf(stderr, "voice loadgen: %zu of %zu pairs in %s\n", pairs.size(), eps_.size(), o_.pairs.c_str());
      return false;
    }
    for (size_t i = 0; i < eps_.size(); ++i) {
      eps_[i].send_to.sin_family = AF_INET;
      eps_[i].send_to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      eps_[i].send_to.sin_port = htons(static_cast<uint16_t>(pairs[i].first));
      eps_[i].expect_from = static_cast<uint16_t>(pairs[i].second);
    }
    if (!o_.cpu_pid_file.empty()) {
      std::ifstream f(o_.cpu_pid_file);
      f >> cpu_pid_;
    }
    return true;
  }

  void run() {
    paced(o_.prime);  // both ends latched, prompts flowing; then drop the counters
    reset();
    const HostSched h0 = cpu_pid_ ? host_sched(cpu_pid_) : HostSched{};
    const Ns t0 = now_ns();
    paced(o_.duration);
    const Ns t1 = now_ns();
    const HostSched h1 = cpu_pid_ ? host_sched(cpu_pid_) : HostSched{};
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
                static_cast<unsigned long long>(hist_.n), hist_.pct_ms(0.5), hist_.pct_ms(0.99),
                static_cast<double>(hist_.max) / 1e6, static_cast<unsigned long long>(late),
                static_cast<unsigned long long>(late_eps), late_buckets_.size(),
                static_cast<double>(h1.wait_ns - h0.wait_ns) / 1e6,
                static_cast<unsigned long long>(h1.nvcsw - h0.nvcsw), cpu_s,
                o_.sessions && secs > 0 ? cpu_s * 1e6 / (static_cast<double>(o_.sessions) * secs) : 0.0,
                cpu_pid_ ? proc_rss_kb(cpu_pid_) : 0L);
  }

 private:
  void reset() {
    for (auto& e : eps_) {
      e.sent = e.received = e.wrong_from = e.late = e.seq_lost = 0;
      e.last_arrival = 0;
      e.last_seq = -1;
    }
    hist_ = Histogram{};
    late_buckets_.clear();
  }

  void send_one(size_t i) {
    Endpoint& e = eps_[i];
    std::array<uint8_t, kPacket> p{};
    p[0] = 0x80;
    p[1] = 0;  // PCMU
    const uint16_t seq = e.seq++;
    p[2] = static_cast<uint8_t>(seq >> 8);
    p[3] = static_cast<uint8_t>(seq);
    const uint32_t ts = uint32_t{seq} * 160;
    const auto ssrc = static_cast<uint32_t>(i + 1);
    for (size_t k = 0; k < 4; ++k) {
      p[4 + k] = static_cast<uint8_t>(ts >> (24 - 8 * k));
      p[8 + k] = static_cast<uint8_t>(ssrc >> (24 - 8 * k));
    }
    std::memcpy(p.data() + 12, payload_[(seq + i) % kFrames].data(), 160);
    if (sendto(e.fd, p.data(), p.size(), 0, reinterpret_cast<const sockaddr*>(&e.send_to), sizeof e.send_to) ==
        static_cast<ssize_t>(kPacket)) {
      ++e.sent;
    }
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
    std::array<epoll_event, 256> evs{};
    const int n = epoll_wait(ep_fd_, evs.data(), static_cast<int>(evs.size()), wait_ms);
    for (int k = 0; k < n; ++k) {
      Endpoint& e = eps_[evs[static_cast<size_t>(k)].data.u64];
      for (;;) {
        for (size_t j = 0; j < kBatch; ++j) {
          iov_[j] = {bufs_[j].data(), bufs_[j].size()};
          msgs_[j].msg_hdr = {};
          msgs_[j].msg_hdr.msg_iov = &iov_[j];
          msgs_[j].msg_hdr.msg_iovlen = 1;
          msgs_[j].msg_hdr.msg_name = &from_[j];
          msgs_[j].msg_hdr.msg_namelen = sizeof from_[j];
          msgs_[j].msg_hdr.msg_control = ctl_[j].data();
          msgs_[j].msg_hdr.msg_controllen = ctl_[j].size();
        }
        const int got = recvmmsg(e.fd, msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (got <= 0) break;
        for (size_t j = 0; j < static_cast<size_t>(got); ++j) {
          if (ntohs(from_[j].sin_port) != e.expect_from) {
            ++e.wrong_from;
            continue;
          }
          Ns at = 0;
          for (cmsghdr* c = CMSG_FIRSTHDR(&msgs_[j].msg_hdr); c; c = CMSG_NXTHDR(&msgs_[j].msg_hdr, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
              timespec ts{};
              std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
              at = Ns{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
            }
          }
          if (at == 0) at = now_ns();
          arrived(e, bufs_[j].data(), msgs_[j].msg_len, at);
        }
        if (static_cast<size_t>(got) < kBatch) break;
      }
    }
  }

  void paced(double seconds) {
    const size_t n = eps_.size();
    const Ns start = now_ns();
    const auto end = start + static_cast<Ns>(seconds * 1e9);
    uint64_t slot = 0;
    for (;;) {
      const Ns t = now_ns();
      if (t >= end) break;
      const auto due = static_cast<uint64_t>((t - start) * static_cast<Ns>(n) / kFrame) + 1;
      for (; slot < due; ++slot) send_one(slot % n);
      poll_receive(1);
    }
  }

  Options o_;
  std::vector<Endpoint> eps_;
  int ep_fd_ = -1;
  int cpu_pid_ = 0;
  Histogram hist_;
  std::set<Ns> late_buckets_;
  std::array<std::array<uint8_t, 160>, kFrames> payload_{};
  std::array<std::array<uint8_t, 2048>, kBatch> bufs_{};
  std::array<std::array<uint8_t, 64>, kBatch> ctl_{};
  std::array<mmsghdr, kBatch> msgs_{};
  std::array<iovec, kBatch> iov_{};
  std::array<sockaddr_in, kBatch> from_{};
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--mode") o.mode = v;
    else if (k == "--sessions") o.sessions = std::stoul(v);
    else if (k == "--pairs") o.pairs = v;
    else if (k == "--ports-out") o.ports_out = v;
    else if (k == "--duration") o.duration = std::stod(v);
    else if (k == "--prime") o.prime = std::stod(v);
    else if (k == "--cpu-pid-file") o.cpu_pid_file = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (o.mode != "voice" && o.mode != "relay") {
    std::fprintf(stderr, "--mode voice|relay\n");
    return 2;
  }
  Generator g(o);
  if (!g.setup()) return 1;
  g.run();
  return 0;
}
