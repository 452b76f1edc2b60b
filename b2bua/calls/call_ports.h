// What the calls feature needs from the registrar and the trunks, as two small interfaces, so
// the call flow reads top to bottom without reaching into their internals (and tests can
// stand in for them). The daemon wires the real registrar and trunk manager behind these.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "b2bua/config/config.h"
#include "b2bua/sip/sip_agent.h"

namespace b2bua::calls {

// One registered, reachable contact of an extension.
struct PhoneTarget {
  std::string extension;
  std::string contact;   // Request-URI: the Contact the phone registered
  std::string flow_uri;  // where to send it: "sip:ip:port;transport=udp" (the REGISTER's source)
  double q = 1.0;
};

class Phones {
 public:
  virtual ~Phones() = default;
  virtual std::vector<PhoneTarget> reachable(const std::string& extension) const = 0;
  // The LAN side's one brute-force guard (shared with REGISTER): a blocked source, a failed and
  // a successful digest check.
  virtual bool blocked(const std::string& source_ip) const = 0;
  virtual void auth_failed(const std::string& source_ip, const std::string& user) = 0;
  virtual void auth_succeeded(const std::string& source_ip) = 0;
};

// How a new dialog towards a trunk is addressed.
struct TrunkRoute {
  std::string domain;         // AoR domain: Request-URI and From host
  std::string contact;        // our Contact: public address, the trunk's token, never a LAN one
  std::string proxy;          // next hop (NUTAG_PROXY): outbound proxy or resolved registrar
  std::string media_address;  // written into SDP towards the trunk (public when known)
};

class Trunks {
 public:
  virtual ~Trunks() = default;
  virtual std::optional<TrunkRoute> route(const config::Trunk& trunk) const = 0;
};

}  // namespace b2bua::calls
