// What the calls feature needs from the trunks to open a dialog towards a provider, as one
// small interface: the call flow reads top to bottom without reaching into the registration
// machinery, and tests can stand in for it. TrunkManager implements it.
//
// Threads: SIP thread only.
#pragma once

#include <optional>
#include <string>

#include "b2bua/config/config.h"

namespace b2bua::trunk {

// How a new dialog towards a trunk is addressed.
struct TrunkRoute {
  std::string domain;         // AoR domain: Request-URI and From host (IPv6 in brackets)
  std::string contact;        // our Contact: public address, the trunk's token, never a LAN one
  std::string proxy;          // next hop (NUTAG_PROXY): outbound proxy or resolved registrar
  std::string media_address;  // written into SDP towards the trunk (public when known)
  // The provider holds a binding of ours that has not expired (or the trunk needs none): a
  // call through a trunk that is not is tried on the next trunk of its route first.
  bool registered = false;
};

class TrunkRoutes {
 public:
  virtual ~TrunkRoutes() = default;
  // nullopt when the trunk is unknown or disabled.
  virtual std::optional<TrunkRoute> route(const config::Trunk& trunk) const = 0;
};

}  // namespace b2bua::trunk
