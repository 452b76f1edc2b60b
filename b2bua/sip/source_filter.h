// A kernel filter on a socket that lets through only packets from listed networks.
//
// On the WAN side every request from a source that is no trunk's server is unwanted, and
// answering it in any way is wrong: sofia answers an INVITE with 100 Trying, a method we do
// not serve with 405, and any request with a Timestamp header with 100, all before our code
// sees it, and it keeps a transaction of ~10 KB for each for 32 s. A flood from spoofed
// addresses would grow the daemon without bound. A classic BPF program on the socket
// (SO_ATTACH_FILTER, no privileges needed) drops those datagrams in the kernel: they cost no
// memory, no parsing and no answer. The kernel counts them in the socket's drop counter.
//
// On a listening TCP socket the same program drops a stranger's SYN, and accepted connections
// inherit it.
//
// Any thread; the SIP thread in practice (replacing a program is atomic for the kernel).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "b2bua/config/config.h"

namespace b2bua::sip {

// What a socket lets in: nothing from `deny`; then, with `allow_only`, only those networks,
// else everything.
struct SourceRules {
  std::vector<config::Network> deny;
  std::optional<std::vector<config::Network>> allow_only;
  bool operator==(const SourceRules&) const = default;
};

// The program for `rules` (IPv4 and IPv6 networks; a packet of either family is checked
// against the networks of its own family). Exposed for tests.
struct FilterInstruction {
  uint16_t code;
  uint8_t jt;
  uint8_t jf;
  uint32_t k;
};
std::vector<FilterInstruction> source_filter_program(const SourceRules& rules);

// Attaches (or replaces) the program on `fd`. False with `why` set if the kernel refused it.
bool attach_source_filter(int fd, const SourceRules& rules, std::string& why);
// Only `allowed` gets in.
bool attach_source_filter(int fd, const std::vector<config::Network>& allowed, std::string& why);
void detach_source_filter(int fd);

// Packets the kernel dropped on this socket since it was opened: the filter's and those
// dropped for a full receive queue (SO_MEMINFO).
uint64_t dropped_packets(int fd);

}  // namespace b2bua::sip
