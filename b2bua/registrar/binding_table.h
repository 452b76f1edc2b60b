// The registrar's bindings (RFC 3261 section 10.3): in memory for the SIP thread, written
// through to the BindingRepository (queued, never blocking), restored at start.
//
// A binding remembers the flow the REGISTER came on (source ip:port and transport, RFC 3581):
// that is how the phone is reached, even behind a NAT or a second NAT. The Contact URI is
// kept as the phone sent it, for the Request-URI and for display.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "storage/store.h"

namespace b2bua::registrar {

using Binding = storage::BindingRow;

// "sip:192.0.2.7:5062;transport=udp": where requests for this binding are sent.
std::string flow_uri(const Binding& b);
// "192.168.1.20:5060" out of "sip:10@192.168.1.20:5060;ob", for logs.
std::string contact_host_port(const std::string& contact_uri);

struct ContactUpdate {
  std::string uri;
  int expires = 0;       // already clamped; 0 removes
  double q = 1.0;
  std::string instance;  // +sip.instance (RFC 5626), empty if none
};

struct RegisterUpdate {
  std::string aor;
  std::string call_id;
  uint32_t cseq = 0;
  std::string transport;
  std::string source;
  std::string user_agent;
  bool wildcard = false;  // "Contact: *" with Expires: 0
  std::vector<ContactUpdate> contacts;
};

struct BindingChange {
  enum class Kind { added, refreshed, removed, expired } kind;
  Binding binding;
  std::string previous_call_id;  // refreshed: the Call-ID the binding had before this REGISTER
};

// Whether `change` starts a binding anew, so that what a phone is told once per binding (the
// message lamp's state) is told again. A binding is the registrar's: the AoR and the Contact URI,
// or the same +sip.instance at a new URI (which replaces the old binding, find_binding). It
// starts anew when
//   - the REGISTER adds it: the contact was not bound (first registration, after its expiry or
//     removal, a phone back with another contact after a reboot), or an instance moved to a new
//     URI;
//   - the REGISTER refreshes it under another Call-ID: a phone keeps one Call-ID for all its
//     registrations during one boot cycle (RFC 3261 10.2.4), so a new one on the same contact is
//     the phone after a restart, with its lamp state forgotten.
// A refresh with the same Call-ID (every re-REGISTER), a removal and an expiry start nothing. A
// phone that takes a new Call-ID for every refresh is told on every refresh: once per REGISTER.
bool starts_binding(const BindingChange& change);

class BindingTable {
 public:
  static constexpr size_t kMaxPerAor = 16;  // a phone cannot grow our memory without bound

  explicit BindingTable(storage::BindingRepository& repository) : repository_(repository) {}

  // Loads what is stored and still valid; returns how many.
  size_t restore(int64_t now);

  // Applies one REGISTER atomically. False (and nothing changed) when a contact's binding has
  // the same Call-ID and a CSeq not lower than this request's (RFC 3261 10.3 step 7).
  bool apply(const RegisterUpdate& update, int64_t now, std::vector<BindingChange>& changes);

  std::vector<BindingChange> expire(int64_t now);
  std::vector<BindingChange> remove_aor(const std::string& aor);
  // The qualify result. False if the binding is unknown or already in that state.
  bool set_answering_options(const std::string& aor, const std::string& contact, bool answering);

  std::vector<Binding> of(const std::string& aor) const;
  std::vector<std::string> aors() const;
  void for_each(const std::function<void(const Binding&)>& fn) const;
  size_t size() const { return count_; }

 private:
  void erase_at(std::vector<Binding>& list, size_t index, BindingChange::Kind kind, std::vector<BindingChange>& changes);

  storage::BindingRepository& repository_;
  std::map<std::string, std::vector<Binding>> by_aor_;
  size_t count_ = 0;
};

}  // namespace b2bua::registrar
