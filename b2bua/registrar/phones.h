// What the calls feature needs from the registrar, as one small interface: where an
// extension's phones can be reached, and the LAN side's one brute-force guard. The calls flow
// reads without reaching into the binding table, and tests can stand in for it. Registrar
// implements it.
//
// Threads: SIP thread only.
#pragma once

#include <string>
#include <vector>

namespace b2bua::registrar {

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
  // Reachable contacts of `extension`, highest q first.
  virtual std::vector<PhoneTarget> reachable(const std::string& extension) const = 0;
  // Shared by REGISTER and INVITE: a password guessed through INVITEs blocks the source like
  // one guessed through REGISTERs.
  virtual bool source_blocked(const std::string& ip) const = 0;
  virtual void auth_failed(const std::string& ip, const std::string& user, const char* method) = 0;
  virtual void auth_succeeded(const std::string& ip) = 0;
};

}  // namespace b2bua::registrar
