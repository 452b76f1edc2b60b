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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
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

constexpr size_t kPacket = 172;
constexpr Ns kFrame = 20'000'000;
constexpr size_t kBatch = 32;

struct Endpoint {
  int fd = -1;
  uint16_t local = 0;
  sockaddr_in send_to{};
  uint16_t expect_from = 0;
  uint32_t seq = 0;
  uint64_t sent = 0;       // by this endpoint, in the measured phase
  uint64_t received = 0;   // by this endpoint (from its peer), in the measured phase
  uint64_t wrong_from = 0;
};

struct Options {
  std::string mode = "paced";
  size_t calls = 10;
  std::string pairs, ports_out;
  double duration = 5, burst = 3, rate = 0, prime = 1;
  unsigned window = 4;
  int cpu_pid = 0;
  std::string cpu_pid_file;  // read once the pairs are there (the relay is up by then)
};

struct Histogram {  // 1 us buckets up to 50 ms
  std::vector<uint64_t> b = std::vector<uint64_t>(50'001, 0);
  uint64_t n = 0;
  void add(Ns ns) {
    const auto us = static_cast<size_t>(std::clamp<Ns>(ns / 1000, 0, 50'000));
    ++b[us];
    ++n;
  }
  double pct(double p) const {
    const auto want = static_cast<uint64_t>(p * static_cast<double>(n));
    uint64_t acc = 0;
    for (size_t i = 0; i < b.size(); ++i) {
      acc += b[i];
      if (acc > want) return static_cast<double>(i);
    }
    return 50'000;
  }
};

std::string read_proc(const std::string& path) {
  std::string s;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
  }
  return s;
}

uint64_t proc_cpu_ticks(int pid) {
  const std::string s = read_proc("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(s.substr(close + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return utime + stime;
}

long proc_rss_kb(int pid) {
  std::istringstream f(read_proc("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

class Generator {
 public:
  explicit Generator(const Options& o) : o_(o), eps_(o.calls * 2) {}

  bool setup() {
    ep_fd_ = epoll_create1(0);
    std::ofstream ports(o_.ports_out);
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
      const int buf = 1 << 20;
      setsockopt(e.fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      epoll_ctl(ep_fd_, EPOLL_CTL_ADD, e.fd, &ev);
      ports << e.local << "\n";
    }
    ports.close();
    // The relay under test is configured now; its port list appears when it is ready.
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
      std::fprintf(stderr, "loadgen: %zu of %zu pairs in %s\n", pairs.size(), eps_.size(), o_.pairs.c_str());
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
      f >> o_.cpu_pid;
    }
    return true;
  }

  void run() {
    // Priming: paced traffic so every relay has latched both ends, then drop the counters.
    paced(o_.prime);
    drain(300'000'000);
    reset();
    char extra[256] = "";
    const uint64_t cpu0 = o_.cpu_pid ? proc_cpu_ticks(o_.cpu_pid) : 0;
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
    const uint64_t cpu1 = o_.cpu_pid ? proc_cpu_ticks(o_.cpu_pid) : 0;
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
                static_cast<double>(received) / secs, hist_.pct(0.5), hist_.pct(0.99),
                static_cast<unsigned long long>(wrong), cpu_s, received ? cpu_s * 1e6 / static_cast<double>(received) : 0.0,
                o_.cpu_pid ? proc_rss_kb(o_.cpu_pid) : 0L, extra);
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
    hist_ = Histogram{};
  }

  void send_one(size_t i) {
    Endpoint& e = eps_[i];
    std::array<uint8_t, kPacket> p{};
    p[0] = 0x80;
    p[1] = 0;  // PCMU
    const uint32_t seq = e.seq++;
    p[2] = static_cast<uint8_t>(seq >> 8);
    p[3] = static_cast<uint8_t>(seq);
    const uint32_t ts = seq * 160;
    const auto ssrc = static_cast<uint32_t>(i + 1);
    for (size_t k = 0; k < 4; ++k) {
      p[4 + k] = static_cast<uint8_t>(ts >> (24 - 8 * k));
      p[8 + k] = static_cast<uint8_t>(ssrc >> (24 - 8 * k));
    }
    const Ns t = now_ns();
    std::memcpy(p.data() + 12, &t, sizeof t);
    if (sendto(e.fd, p.data(), p.size(), 0, reinterpret_cast<const sockaddr*>(&e.send_to), sizeof e.send_to) ==
        static_cast<ssize_t>(kPacket)) {
      ++e.sent;
    }
  }

  // Reads everything ready, waiting at most `wait_ms`.
  void poll_receive(int wait_ms) {
    std::array<epoll_event, 256> evs{};
    const int n = epoll_wait(ep_fd_, evs.data(), static_cast<int>(evs.size()), wait_ms);
    std::array<std::array<uint8_t, 2048>, kBatch> bufs{};
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iov{};
    std::array<sockaddr_in, kBatch> from{};
    for (int k = 0; k < n; ++k) {
      Endpoint& e = eps_[evs[static_cast<size_t>(k)].data.u64];
      for (;;) {
        for (size_t j = 0; j < kBatch; ++j) {
          iov[j] = {bufs[j].data(), bufs[j].size()};
          msgs[j].msg_hdr = {};
          msgs[j].msg_hdr.msg_iov = &iov[j];
          msgs[j].msg_hdr.msg_iovlen = 1;
          msgs[j].msg_hdr.msg_name = &from[j];
          msgs[j].msg_hdr.msg_namelen = sizeof from[j];
        }
        const int got = recvmmsg(e.fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (got <= 0) break;
        const Ns t = now_ns();
        for (size_t j = 0; j < static_cast<size_t>(got); ++j) {
          if (msgs[j].msg_len != kPacket) continue;  // relay keep-alives and RTCP are not ours
          if (ntohs(from[j].sin_port) != e.expect_from) {
            ++e.wrong_from;
            continue;
          }
          Ns sent_at = 0;
          std::memcpy(&sent_at, bufs[j].data() + 12, sizeof sent_at);
          hist_.add(t - sent_at);
          ++e.received;
        }
        if (static_cast<size_t>(got) < kBatch) break;
      }
    }
  }

  void drain(Ns for_ns) {
    const Ns end = now_ns() + for_ns;
    while (now_ns() < end) poll_receive(10);
  }

  void paced(double seconds) {
    const size_t n = eps_.size();
    const Ns start = now_ns();
    const auto end = start + static_cast<Ns>(seconds * 1e9);
    uint64_t slot = 0;  // packets scheduled so far across all endpoints
    for (;;) {
      const Ns t = now_ns();
      if (t >= end) break;
      // Endpoint i sends at start + i*20ms/n + k*20ms.
      const auto due = static_cast<uint64_t>((t - start) * static_cast<Ns>(n) / kFrame) + 1;
      for (; slot < due; ++slot) send_one(slot % n);
      poll_receive(1);
    }
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
  int ep_fd_ = -1;
  Histogram hist_;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--mode") o.mode = v;
    else if (k == "--calls") o.calls = std::stoul(v);
    else if (k == "--pairs") o.pairs = v;
    else if (k == "--ports-out") o.ports_out = v;
    else if (k == "--duration") o.duration = std::stod(v);
    else if (k == "--burst") o.burst = std::stod(v);
    else if (k == "--rate") o.rate = std::stod(v);
    else if (k == "--prime") o.prime = std::stod(v);
    else if (k == "--window") o.window = static_cast<unsigned>(std::stoul(v));
    else if (k == "--cpu-pid") o.cpu_pid = std::stoi(v);
    else if (k == "--cpu-pid-file") o.cpu_pid_file = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  Generator g(o);
  if (!g.setup()) return 1;
  g.run();
  return 0;
}
