#include "b2bua/sip/source_filter.h"

#include <linux/filter.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace b2bua::sip {
namespace {

// Offsets from the start of the network header (SKF_NET_OFF): the packet's data starts at the
// transport header for a socket filter, the IP header is reached through this base.
constexpr uint32_t kIpVersionByte = 0;
constexpr uint32_t kIpv4Source = 12;
constexpr uint32_t kIpv6Source = 8;
constexpr uint32_t kAccept = 0xffffffff;  // keep the whole packet
constexpr uint32_t kDrop = 0;

FilterInstruction op(uint16_t code, uint32_t k, uint8_t jt = 0, uint8_t jf = 0) { return {code, jt, jf, k}; }

uint32_t word(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) | bytes[3];
}

// Mask of the `prefix` bits that fall in 32-bit word `w` of the address.
uint32_t word_mask(int prefix, int w) {
  int bits = prefix - 32 * w;
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return ~uint32_t{0} << (32 - bits);
}

// One network: compare each word the prefix covers; all equal -> `verdict`, any differs -> on
// to the next network (the instruction after this block).
void add_network(std::vector<FilterInstruction>& p, const config::Network& n, uint32_t source, int words,
                 uint32_t verdict) {
  std::vector<FilterInstruction> block;
  for (int w = 0; w < words; ++w) {
    uint32_t mask = word_mask(n.prefix, w);
    if (mask == 0) break;
    block.push_back(op(BPF_LD | BPF_W | BPF_ABS, static_cast<uint32_t>(SKF_NET_OFF) + source + 4u * w));
    if (mask != 0xffffffff) block.push_back(op(BPF_ALU | BPF_AND | BPF_K, mask));
    block.push_back(op(BPF_JMP | BPF_JEQ | BPF_K, word(n.addr + 4 * w) & mask));  // jumps set below
  }
  block.push_back(op(BPF_RET | BPF_K, verdict));
  // Each comparison falls through when equal and skips to past the block's verdict when not.
  for (size_t i = 0; i < block.size(); ++i) {
    if (block[i].code == (BPF_JMP | BPF_JEQ | BPF_K)) block[i].jf = static_cast<uint8_t>(block.size() - 1 - i);
  }
  p.insert(p.end(), block.begin(), block.end());
}

// The checks for one address family: denied networks drop, then allowed ones accept, then the
// default.
std::vector<FilterInstruction> family_checks(const SourceRules& rules, int family) {
  uint32_t source = family == AF_INET ? kIpv4Source : kIpv6Source;
  int words = family == AF_INET ? 1 : 4;
  std::vector<FilterInstruction> p;
  for (const auto& n : rules.deny) {
    if (n.family == family) add_network(p, n, source, words, kDrop);
  }
  if (rules.allow_only) {
    for (const auto& n : *rules.allow_only) {
      if (n.family == family) add_network(p, n, source, words, kAccept);
    }
  }
  p.push_back(op(BPF_RET | BPF_K, rules.allow_only ? kDrop : kAccept));
  return p;
}

}  // namespace

std::vector<FilterInstruction> source_filter_program(const SourceRules& rules) {
  auto v4 = family_checks(rules, AF_INET);
  auto v6 = family_checks(rules, AF_INET6);
  std::vector<FilterInstruction> p;
  // The IP version: 4 goes on to the IPv4 networks, anything else jumps over them.
  p.push_back(op(BPF_LD | BPF_B | BPF_ABS, static_cast<uint32_t>(SKF_NET_OFF) + kIpVersionByte));
  p.push_back(op(BPF_ALU | BPF_RSH | BPF_K, 4));
  p.push_back(op(BPF_JMP | BPF_JEQ | BPF_K, 4, 1, 0));
  p.push_back(op(BPF_JMP | BPF_JA, static_cast<uint32_t>(v4.size())));
  p.insert(p.end(), v4.begin(), v4.end());
  p.insert(p.end(), v6.begin(), v6.end());
  return p;
}

bool attach_source_filter(int fd, const std::vector<config::Network>& allowed, std::string& why) {
  return attach_source_filter(fd, SourceRules{{}, allowed}, why);
}

bool attach_source_filter(int fd, const SourceRules& rules, std::string& why) {
  auto program = source_filter_program(rules);
  if (program.size() > BPF_MAXINSNS) {
    why = "too many networks for the kernel filter";
    return false;
  }
  std::vector<sock_filter> code;
  code.reserve(program.size());
  for (const auto& i : program) code.push_back(sock_filter{i.code, i.jt, i.jf, i.k});
  sock_fprog prog{static_cast<unsigned short>(code.size()), code.data()};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
    why = std::strerror(errno);
    return false;
  }
  return true;
}

void detach_source_filter(int fd) {
  int unused = 0;
  setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused);
}

uint64_t dropped_packets(int fd) {
  uint32_t meminfo[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof meminfo;
  if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo, &len) != 0 || len <= SK_MEMINFO_DROPS * sizeof(uint32_t)) return 0;
  return meminfo[SK_MEMINFO_DROPS];
}

}  // namespace b2bua::sip
