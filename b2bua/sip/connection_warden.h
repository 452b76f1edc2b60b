// Limits on the TCP/TLS connections peers open to one agent's SIP ports.
//
// sofia has none: tport_accept() takes every connection, keeps one that never sends a byte
// forever (its idle timer is armed only after a first message), and counts nothing per source.
// A scanner, or a broken phone in a reconnect loop, could hold every descriptor we have. The
// warden looks at the agent's accepted connections once a second (own_sockets.h) and
// ends, in this order:
//   - silent: nothing received `silent_ms` after the connection was accepted;
//   - idle:   nothing received for `idle_ms` (a registered TCP phone refreshes, answers our
//             OPTIONS and pings well within that);
//   - slow_message: the peer has kept sending for `message_ms` and we sent nothing back. Every
//             request we can parse gets an answer at once (a pong for a CRLF ping), and an ACK
//             needs none but comes alone; bytes that keep trickling in without an answer are a
//             message that never ends. (sofia's TPTAG_TIMEOUT restarts with every byte.)
//   - per_source: beyond `per_source` connections from one address, the ones quiet longest;
//   - total:  beyond `total` connections, the ones quiet longest.
// The size of a message, and a message that stops half way, are sofia's (NTATAG_MAXSIZE,
// TPTAG_TIMEOUT in sip_agent.cpp): it answers 413 / 400 and closes the connection itself.
//
// SIP thread only: the warden ends descriptors sofia owns, and sofia runs on that thread, so a
// descriptor cannot be closed and reused between listing and ending it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "b2bua/sip/own_sockets.h"
#include "b2bua/sip/timer.h"

namespace b2bua::sip {

struct StreamLimits {
  size_t per_source = 8;
  size_t total = 256;
  uint32_t silent_ms = 10000;
  uint32_t idle_ms = 0;  // 0: no idle limit
  uint32_t message_ms = 10000;
};

enum class CloseReason { silent, idle, slow_message, per_source, total };
const char* close_reason_name(CloseReason r);

// Which connections to end, and why (indexes into `open`). A pure function, for tests.
std::vector<std::pair<size_t, CloseReason>> connections_to_end(const std::vector<StreamConnection>& open,
                                                               const StreamLimits& limits);

class ConnectionWarden {
 public:
  static constexpr unsigned kSweepMs = 1000;

  ConnectionWarden(su_root_t* root, std::string side, std::vector<LocalAddress> listeners, StreamLimits limits);
  ConnectionWarden(const ConnectionWarden&) = delete;
  ConnectionWarden& operator=(const ConnectionWarden&) = delete;

  void set_limits(const StreamLimits& limits) { limits_ = limits; }

  struct Counts {
    size_t open = 0;                                  // after the last sweep
    std::map<std::string, uint64_t> closed;           // by reason name, since start
  };
  const Counts& counts() const { return counts_; }

  // One look at the connections now (the timer calls it; tests may too).
  void sweep();

 private:
  void log_closed(const std::string& source, CloseReason reason, int64_t now_s);
  // Fills each connection's unanswered_ms from what the last looks saw.
  void follow(std::vector<StreamConnection>& open, int64_t now_ms);

  struct Followed {
    uint64_t received = 0;
    uint64_t sent = 0;
    int64_t since_ms = 0;  // the first growth of `received` with nothing sent; 0: none
    int64_t last_ms = 0;   // the latest such growth
  };

  std::string side_;
  std::vector<LocalAddress> listeners_;
  StreamLimits limits_;
  Timer timer_;
  Counts counts_;
  // One warning per (source, reason) a minute; a flood of connections is a count, not a log.
  std::map<std::pair<std::string, CloseReason>, int64_t> last_logged_;
  std::map<std::pair<std::string, uint16_t>, Followed> followed_;  // by peer address and port
};

}  // namespace b2bua::sip
