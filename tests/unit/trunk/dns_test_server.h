// A DNS server for the resolver tests: UDP on 127.0.0.1, an ephemeral port, answering A and
// SRV questions from a table the test fills (NXDOMAIN for anything else), or dropping every
// query while silent. Serves from a thread of its own; the test thread runs the SIP reactor.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace b2bua::trunk::testing {

class DnsTestServer {
 public:
  struct Srv {
    uint16_t priority, weight, port;
    std::string target;
  };

  DnsTestServer() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;  // port() stays 0: the test fails on it
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~DnsTestServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
  }
  DnsTestServer(const DnsTestServer&) = delete;
  DnsTestServer& operator=(const DnsTestServer&) = delete;

  uint16_t port() const { return port_; }
  void a(const std::string& name, const std::string& ip, uint32_t ttl = 300) {
    std::lock_guard<std::mutex> lock(mu_);
    a_[name].push_back({ip, ttl});
  }
  void srv(const std::string& name, Srv record, uint32_t ttl = 300) {
    std::lock_guard<std::mutex> lock(mu_);
    srv_[name].push_back({record, ttl});
  }
  void silent(bool on) { silent_ = on; }
  unsigned queries() const { return queries_; }

 private:
  static void put16(std::string& out, unsigned v) {
    out += static_cast<char>((v >> 8) & 0xff);
    out += static_cast<char>(v & 0xff);
  }
  static void put32(std::string& out, uint32_t v) {
    put16(out, v >> 16);
    put16(out, v & 0xffff);
  }
  static std::string encode_name(const std::string& name) {
    std::string out;
    size_t start = 0;
    while (start < name.size()) {
      size_t dot = name.find('.', start);
      if (dot == std::string::npos) dot = name.size();
      out += static_cast<char>(dot - start);
      out += name.substr(start, dot - start);
      start = dot + 1;
    }
    return out + '\0';
  }

  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      unsigned char buf[512];
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 12) continue;
      ++queries_;
      if (silent_) continue;
      std::string reply = answer(buf, static_cast<size_t>(n));
      if (!reply.empty()) sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  // The reply to one question (no compression in questions from c-ares).
  std::string answer(const unsigned char* q, size_t n) {
    std::string name;
    size_t i = 12;
    while (i < n && q[i] != 0) {
      size_t l = q[i];
      if (i + 1 + l > n) return "";
      name += (name.empty() ? "" : ".") + std::string(reinterpret_cast<const char*>(q + i + 1), l);
      i += 1 + l;
    }
    if (i + 5 > n) return "";
    unsigned type = static_cast<unsigned>(q[i + 1] << 8 | q[i + 2]);
    size_t question_end = i + 5;
    std::vector<std::string> records;
    bool known = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto as = a_.find(name);
      auto srvs = srv_.find(name);
      known = as != a_.end() || srvs != srv_.end();
      if (type == 1 && as != a_.end()) {
        for (const auto& [ip, ttl] : as->second) {
          std::string rr;
          put16(rr, 0xc00c);
          put16(rr, 1);
          put16(rr, 1);
          put32(rr, ttl);
          put16(rr, 4);
          in_addr addr{};
          inet_pton(AF_INET, ip.c_str(), &addr);
          rr.append(reinterpret_cast<const char*>(&addr), 4);
          records.push_back(rr);
        }
      } else if (type == 33 && srvs != srv_.end()) {
        for (const auto& [s, ttl] : srvs->second) {
          std::string target = encode_name(s.target), rr;
          put16(rr, 0xc00c);
          put16(rr, 33);
          put16(rr, 1);
          put32(rr, ttl);
          put16(rr, static_cast<unsigned>(6 + target.size()));
          put16(rr, s.priority);
          put16(rr, s.weight);
          put16(rr, s.port);
          records.push_back(rr + target);
        }
      }
    }
    std::string out(reinterpret_cast<const char*>(q), 2);  // id
    put16(out, known ? 0x8580 : 0x8583);                  // response, authoritative; NXDOMAIN if unknown
    put16(out, 1);
    put16(out, static_cast<unsigned>(records.size()));
    put16(out, 0);
    put16(out, 0);
    out.append(reinterpret_cast<const char*>(q + 12), question_end - 12);
    for (const auto& rr : records) out += rr;
    return out;
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> silent_{false};
  std::atomic<unsigned> queries_{0};
  std::mutex mu_;
  std::map<std::string, std::vector<std::pair<std::string, uint32_t>>> a_;
  std::map<std::string, std::vector<std::pair<Srv, uint32_t>>> srv_;
};

}  // namespace b2bua::trunk::testing
