// This process's own sockets, as the kernel sees them: the ones a SIP agent bound, and the
// TCP connections peers hold open to them.
//
// sofia's transport layer offers no view of its sockets through nua (and no hook on accept),
// so this reads the process's descriptor table. A connection is a stream socket whose local
// address is one of an agent's listening sockets; connections we open ourselves (to a
// provider, to a TCP phone) bind an ephemeral port and are never listed.
//
// Linux only (/proc/self/fd, TCP_INFO). Any thread; the SIP thread in practice, so a
// descriptor listed here cannot be closed and reused by sofia meanwhile.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

namespace b2bua::sip {

// A listening socket's local address (the IP may be the wildcard).
struct LocalAddress {
  sockaddr_storage address{};
  bool operator==(const LocalAddress& other) const;
};

uint16_t port_of(const LocalAddress& a);

// A socket that receives: a listening stream socket or a bound datagram socket.
struct OwnSocket {
  int fd = -1;
  int type = 0;  // SOCK_STREAM (listening) or SOCK_DGRAM
  LocalAddress local;
  bool operator==(const OwnSocket& other) const { return fd == other.fd && type == other.type && local == other.local; }
};

// Called before and after an agent binds, the difference is the agent's own (see SipAgent).
std::vector<OwnSocket> receiving_sockets();

struct StreamConnection {
  int fd = -1;
  std::string peer;             // the peer's IP
  uint16_t peer_port = 0;
  uint32_t quiet_ms = 0;        // since the last byte received (since accept when none came)
  uint64_t bytes_received = 0;  // TLS handshakes and CRLF pings count
  uint64_t bytes_sent = 0;      // our answers, pongs and requests on it
  // How long the peer has kept sending while we sent nothing back (the warden's, across looks).
  uint32_t unanswered_ms = 0;
};

// Established connections accepted on one of `listeners`.
std::vector<StreamConnection> accepted_connections(const std::vector<LocalAddress>& listeners);

// Ends a connection the way a peer's close would: sofia reads end-of-stream and releases its
// transport. (close() here would pull the descriptor from under sofia.)
void end_connection(int fd);

}  // namespace b2bua::sip
