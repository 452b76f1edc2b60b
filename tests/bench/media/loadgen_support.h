// What the media load generators (rtp_loadgen, voice_loadgen) have in common: the clock, the
// latency/jitter histogram, sampling the host under test from /proc, the options every run
// script passes, the handshake with the host (our ports out, its "<send-to port> <expect-from
// port>" lines in), RTP/PCMU packets, paced sending and batched receiving on loopback.
#pragma once

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace loadgen {

using Ns = int64_t;
inline Ns now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Ns{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

constexpr size_t kPacket = 172;  // 12 RTP + 160 PCMU: 20 ms at 8 kHz
constexpr Ns kFrame = 20'000'000;
constexpr size_t kBatch = 32;  // datagrams per recvmmsg

// Fixed-width buckets from 0 to `top_bucket` (larger values land in the last one), so the
// percentiles cost nothing per sample and the measured phase allocates nothing.
class Histogram {
 public:
  Histogram(Ns bucket_us, size_t top_bucket) : bucket_us_(bucket_us), b_(top_bucket + 1, 0) {}
  void add(Ns ns) {
    ++b_[static_cast<size_t>(std::clamp<Ns>(ns / (bucket_us_ * 1000), 0, static_cast<Ns>(b_.size() - 1)))];
    ++n_;
    max_ = std::max(max_, ns);
  }
  void clear() {
    std::fill(b_.begin(), b_.end(), 0);
    n_ = 0;
    max_ = 0;
  }
  // The lower edge of the bucket holding the p-quantile, in microseconds.
  double pct_us(double p) const {
    const auto want = static_cast<uint64_t>(p * static_cast<double>(n_));
    uint64_t acc = 0;
    for (size_t i = 0; i < b_.size(); ++i) {
      acc += b_[i];
      if (acc > want) return static_cast<double>(static_cast<Ns>(i) * bucket_us_);
    }
    return static_cast<double>(static_cast<Ns>(b_.size() - 1) * bucket_us_);
  }
  uint64_t count() const { return n_; }
  Ns max() const { return max_; }

 private:
  Ns bucket_us_;
  std::vector<uint64_t> b_;
  uint64_t n_ = 0;
  Ns max_ = 0;
};

// The host under test, sampled from /proc before and after the measured window.
inline std::string read_text(const std::string& path) {
  std::string s;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
  }
  return s;
}

// utime + stime of the whole process (/proc/PID/stat, clock ticks).
inline uint64_t proc_cpu_ticks(int pid) {
  const std::string s = read_text("/proc/" + std::to_string(pid) + "/stat");
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

// Summed over every thread of `pid`: run time and time spent runnable but waiting for the CPU
// (/proc/.../schedstat, ns), and involuntary context switches (preempted by another task).
struct HostSched {
  uint64_t run_ns = 0, wait_ns = 0, nvcsw = 0;
};
inline HostSched host_sched(int pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  HostSched h;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::istringstream ss(read_text(dir + "/" + e->d_name + "/schedstat"));
      uint64_t run = 0, wait = 0;
      ss >> run >> wait;
      h.run_ns += run;
      h.wait_ns += wait;
      std::istringstream st(read_text(dir + "/" + e->d_name + "/status"));
      for (std::string line; std::getline(st, line);) {
        if (line.rfind("nonvoluntary_ctxt_switches:", 0) == 0) h.nvcsw += std::strtoull(line.c_str() + 27, nullptr, 10);
      }
    }
    closedir(d);
  }
  return h;
}

inline long proc_rss_kb(int pid) {
  std::istringstream f(read_text("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

// The options every run script passes; each generator adds its own.
struct CommonOptions {
  CommonOptions(std::string default_mode, double default_duration)
      : mode(std::move(default_mode)), duration(default_duration) {}
  std::string mode;
  std::string pairs, ports_out;
  std::string cpu_pid_file;  // read once the pairs are there (the host is up by then)
  double duration;
  double prime = 1;
};

// "--key value" pairs: the common ones, then `extra` (false: a key it does not know either).
inline bool parse_options(int argc, char** argv, CommonOptions& o,
                          const std::function<bool(const std::string&, const std::string&)>& extra) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--mode") o.mode = v;
    else if (k == "--pairs") o.pairs = v;
    else if (k == "--ports-out") o.ports_out = v;
    else if (k == "--duration") o.duration = std::stod(v);
    else if (k == "--prime") o.prime = std::stod(v);
    else if (k == "--cpu-pid-file") o.cpu_pid_file = v;
    else if (!extra(k, v)) {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return false;
    }
  }
  return true;
}

// One end of a stream: a socket on 127.0.0.1 and where it talks to. Each generator's endpoint
// adds its sequence number and counters of its own.
struct Socket {
  int fd = -1;
  uint16_t local = 0;
  sockaddr_in send_to{};
  uint16_t expect_from = 0;
  uint64_t sent = 0;      // by this endpoint, in the measured phase
  uint64_t received = 0;  // by this endpoint (from its peer), in the measured phase
  uint64_t wrong_from = 0;
};

// The handshake with the host under test. Binds every endpoint to an ephemeral port and writes
// the list to `o.ports_out` (renamed into place, so the host never reads half of it), then waits
// up to 60 s for the host's `o.pairs` and reads the host's PID for the CPU figures.
template <class E>
bool connect_to_host(std::vector<E>& eps, int epoll_fd, const CommonOptions& o, bool kernel_timestamps,
                     const char* who, int& cpu_pid) {
  std::ofstream ports(o.ports_out + ".tmp");
  for (size_t i = 0; i < eps.size(); ++i) {
    Socket& e = eps[i];
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
    if (kernel_timestamps) setsockopt(e.fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, e.fd, &ev);
    ports << e.local << "\n";
  }
  ports.close();
  std::rename((o.ports_out + ".tmp").c_str(), o.ports_out.c_str());
  // The host is configured now; its port list appears when it is ready.
  std::vector<std::pair<int, int>> pairs;
  for (int waited = 0; waited < 600; ++waited) {
    std::ifstream f(o.pairs);
    pairs.clear();
    int s = 0, x = 0;
    while (f >> s >> x) pairs.emplace_back(s, x);
    if (pairs.size() >= eps.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (pairs.size() < eps.size()) {
    std::fprintf(stderr, "%s: %zu of %zu pairs in %s\n", who, pairs.size(), eps.size(), o.pairs.c_str());
    return false;
  }
  for (size_t i = 0; i < eps.size(); ++i) {
    Socket& e = eps[i];
    e.send_to.sin_family = AF_INET;
    e.send_to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    e.send_to.sin_port = htons(static_cast<uint16_t>(pairs[i].first));
    e.expect_from = static_cast<uint16_t>(pairs[i].second);
  }
  if (!o.cpu_pid_file.empty()) {
    std::ifstream f(o.cpu_pid_file);
    f >> cpu_pid;
  }
  return true;
}

using Packet = std::array<uint8_t, kPacket>;

// A PCMU packet's RTP header; the payload is the caller's.
inline Packet pcmu_packet(uint16_t seq, uint32_t ts, uint32_t ssrc) {
  Packet p{};
  p[0] = 0x80;
  p[1] = 0;  // PCMU
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  for (size_t k = 0; k < 4; ++k) {
    p[4 + k] = static_cast<uint8_t>(ts >> (24 - 8 * k));
    p[8 + k] = static_cast<uint8_t>(ssrc >> (24 - 8 * k));
  }
  return p;
}

inline void send_packet(Socket& e, const Packet& p) {
  if (sendto(e.fd, p.data(), p.size(), 0, reinterpret_cast<const sockaddr*>(&e.send_to), sizeof e.send_to) ==
      static_cast<ssize_t>(p.size())) {
    ++e.sent;
  }
}

// `n` endpoints each send one packet per 20 ms for `seconds`, endpoint i at start + i*20ms/n +
// k*20ms (phases spread evenly, as independent calls would be); receives in between.
template <class Send, class Poll>
void paced(size_t n, double seconds, Send&& send_one, Poll&& poll_receive) {
  const Ns start = now_ns();
  const auto end = start + static_cast<Ns>(seconds * 1e9);
  uint64_t slot = 0;  // packets scheduled so far across all endpoints
  for (;;) {
    const Ns t = now_ns();
    if (t >= end) break;
    const auto due = static_cast<uint64_t>((t - start) * static_cast<Ns>(n) / kFrame) + 1;
    for (; slot < due; ++slot) send_one(slot % n);
    poll_receive(1);
  }
}

// Reads every endpoint that is ready, kBatch datagrams per system call. The buffers live here
// once, not on the stack of every poll, and stay where the message headers point.
class BatchReceiver {
 public:
  BatchReceiver() : epoll_fd_(epoll_create1(0)) {
    for (size_t j = 0; j < kBatch; ++j) {
      iov_[j] = {bufs_[j].data(), bufs_[j].size()};
      msghdr& h = msgs_[j].msg_hdr;
      h.msg_iov = &iov_[j];
      h.msg_iovlen = 1;
      h.msg_name = &from_[j];
      h.msg_control = ctl_[j].data();
    }
  }
  BatchReceiver(const BatchReceiver&) = delete;
  BatchReceiver& operator=(const BatchReceiver&) = delete;
  int epoll_fd() const { return epoll_fd_; }

  // Waits at most `wait_ms` for a readable endpoint, then calls
  // arrived(endpoint, data, length, source port, at) for each datagram; `at` is the kernel's
  // receive time where the socket has SO_TIMESTAMPNS, else the time the batch was read.
  template <class E, class Arrived>
  void poll(std::vector<E>& eps, int wait_ms, Arrived&& arrived) {
    std::array<epoll_event, 256> evs{};
    const int n = epoll_wait(epoll_fd_, evs.data(), static_cast<int>(evs.size()), wait_ms);
    for (int k = 0; k < n; ++k) {
      E& e = eps[evs[static_cast<size_t>(k)].data.u64];
      for (;;) {
        for (mmsghdr& m : msgs_) {  // the kernel wrote the lengths of the last batch here
          m.msg_hdr.msg_namelen = sizeof(sockaddr_in);
          m.msg_hdr.msg_controllen = kControl;
        }
        const int got = recvmmsg(e.fd, msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (got <= 0) break;
        const Ns read_at = now_ns();
        for (size_t j = 0; j < static_cast<size_t>(got); ++j) {
          Ns at = 0;
          for (cmsghdr* c = CMSG_FIRSTHDR(&msgs_[j].msg_hdr); c; c = CMSG_NXTHDR(&msgs_[j].msg_hdr, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
              timespec ts{};
              std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
              at = Ns{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
            }
          }
          arrived(e, bufs_[j].data(), static_cast<size_t>(msgs_[j].msg_len), ntohs(from_[j].sin_port),
                  at != 0 ? at : read_at);
        }
        if (static_cast<size_t>(got) < kBatch) break;
      }
    }
  }

 private:
  static constexpr size_t kControl = 64;  // room for SCM_TIMESTAMPNS
  int epoll_fd_;
  std::array<std::array<uint8_t, 2048>, kBatch> bufs_{};
  std::array<std::array<uint8_t, kControl>, kBatch> ctl_{};
  std::array<mmsghdr, kBatch> msgs_{};
  std::array<iovec, kBatch> iov_{};
  std::array<sockaddr_in, kBatch> from_{};
};

}  // namespace loadgen
