// Our address as the provider sees it, for the Contact we register.
//
// Behind a NAT the provider sees the router's public address and the port its mapping chose;
// it tells us in the Via of every response (RFC 3581 received/rport). A configured
// wan.public_address wins (with wan.port: the admin forwards that port). Once a public address
// is known, the private bind address is never named in a Contact again.
#pragma once

#include <optional>
#include <string>

#include "b2bua/sip/sofia.h"
#include "b2bua/trunk/host_port.h"

namespace b2bua::trunk {

class NatAddress {
 public:
  NatAddress(const std::optional<std::string>& configured_public, HostPort local);

  // The top Via of a response to one of our requests. True when the public address changed
  // (the caller re-registers with the new Contact).
  bool learn(const sip_via_t* via);

  // A previously learned address ("ip:port" from storage), used until a response says better.
  void restore(const std::string& stored);

  // What our Contact carries: configured, else learned, else the bind address when it is
  // public, else kUnknownPublicHost.
  HostPort contact_address() const;

  // What the top Via of our requests names as sent-by (via_sent_by_host), on the bind port.
  HostPort sent_by() const;

  // "ip:port" learned or configured, "" when nothing is known yet.
  std::string public_address() const;
  bool configured() const { return configured_; }
  const HostPort& local() const { return local_; }

 private:
  HostPort local_;
  HostPort public_;
  bool configured_ = false;
};

}  // namespace b2bua::trunk
