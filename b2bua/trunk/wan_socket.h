// The WAN agent's own UDP socket, for sending CRLF keep-alives from the registered flow, and
// the datagram helpers the STUN probes share (stun_socket.h).
//
// A NAT mapping is kept alive only by packets from the same source address and port, so a
// keep-alive must leave through the socket sofia bound (wan.address:wan.port). sofia 1.12 has
// no API to send raw bytes on a transport (nua_get_agent() only exists in freeswitch/sofia-sip
// 1.13), so we find that socket among our descriptors by its bound address. It is only written
// to, never read: everything that arrives stays sofia's.
#pragma once

#include <sys/socket.h>

#include "b2bua/trunk/host_port.h"

namespace b2bua::trunk {

// `hp` (an IP literal and port) as a socket address; false for a name.
bool to_sockaddr(const HostPort& hp, sockaddr_storage& ss, socklen_t& len);

// The descriptor of our UDP socket bound to `local`, or -1.
int find_bound_udp_socket(const HostPort& local);

// Sends `data` from `fd` to `to`. False when the datagram could not be sent.
bool send_datagram(int fd, const HostPort& to, const char* data, size_t size);

}  // namespace b2bua::trunk
