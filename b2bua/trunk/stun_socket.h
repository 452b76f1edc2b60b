// A UDP socket of our own for STUN probes, bound to the WAN address on a port the kernel picks,
// and read on the SIP thread's reactor (an su_root wait): nothing blocks. Every datagram that
// parses as a STUN Binding response goes to the callback, with the socket it came in on.
//
// Bound to wan.address like the SIP socket, so its packets take the same route through the
// same NAT as the trunk's flow.
//
// Threads: the SIP thread only. The callback must not destroy the socket it is called for.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "b2bua/sip/sofia.h"
#include "b2bua/trunk/stun_message.h"

namespace b2bua::trunk {

class StunSocket {
 public:
  using Received = std::function<void(const StunResponse&)>;

  StunSocket(su_root_t* root, Received received);
  ~StunSocket();
  StunSocket(const StunSocket&) = delete;
  StunSocket& operator=(const StunSocket&) = delete;

  // False (and `error` says why) when the socket cannot be opened on `bind_address`.
  bool open(const std::string& bind_address, std::string& error);
  bool send(const HostPort& to, const std::vector<uint8_t>& message);
  uint16_t local_port() const { return port_; }

 private:
  static int readable(su_root_magic_t*, su_wait_t* wait, su_wakeup_arg_t* arg);
  void close();

  su_root_t* root_;
  Received received_;
  int fd_ = -1;
  int index_ = 0;  // su_root registration, 0 when none
  uint16_t port_ = 0;
};

}  // namespace b2bua::trunk
