// What the calls feature needs from the registrar, as one small interface: where an
// extension's phones can be rung, when a phone comes online at a new binding, and the LAN side's
// one brute-force guard. The calls flow reads without reaching into the binding table, and tests
// can stand in for it. Registrar implements it.
//
// Threads: SIP thread only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "b2bua/sip/sofia.h"

namespace b2bua::registrar {

// One registered contact of an extension that a call rings.
struct PhoneTarget {
  std::string extension;
  std::string contact;   // Request-URI: the Contact the phone registered
  std::string flow_uri;  // where to send it: "sip:ip:port;transport=udp" (the REGISTER's source)
  double q = 1.0;
  // The last qualify OPTIONS went unanswered. Rung all the same: plenty of phones ignore OPTIONS,
  // a firewall may drop them, a sleeping softphone wakes for an INVITE (push, keep-alive).
  bool answering_options = true;
};

// A binding of the extension that a call does not ring, and why ("expired": its time ran out
// and the registrar has not removed it yet).
struct SkippedBinding {
  std::string contact;
  const char* reason = "";
};

struct RingTargets {
  std::vector<PhoneTarget> ring;       // every one in parallel; highest q first
  std::vector<SkippedBinding> skipped;
};

// A phone came online at `phone`: a REGISTER started that binding (starts_binding in
// binding_table.h says exactly when), after the 200 is queued.
using NewBindingListener = std::function<void(const PhoneTarget& phone)>;

class Phones {
 public:
  virtual ~Phones() = default;
  // What a call to `extension` rings: every unexpired binding, answering OPTIONS or not.
  virtual RingTargets ring_targets(const std::string& extension) const = 0;
  // One listener (message waiting tells the phone its lamp state); null removes it.
  virtual void on_new_binding(NewBindingListener listener) = 0;
  // Shared by REGISTER and INVITE (auth_guard.h): a password guessed through INVITEs blocks
  // the source, or locks the extension, like one guessed through REGISTERs.
  virtual bool source_blocked(const std::string& ip) const = 0;
  // A blocked source's request: held unanswered until its sender gives up (sip/silent_drop.h),
  // so a guesser learns nothing, not even that it is blocked. Takes the handle.
  virtual void drop_silently(nua_handle_t* nh) = 0;
  virtual void auth_failed(const std::string& ip, const std::string& user, const char* method) = 0;
  // Right credentials for `user` from `ip`. False while `user` is locked and `ip` holds none of
  // its current bindings: the caller then answers exactly as to a wrong password.
  [[nodiscard]] virtual bool auth_succeeded(const std::string& ip, const std::string& user) = 0;
};

}  // namespace b2bua::registrar
