// What a trunk registers and how it names itself towards its provider: the address-of-record,
// the token in the Contact's user part, the Contact across REGISTERs, and which expiry a
// REGISTER response grants that Contact.
//
// The token lets an inbound INVITE name its trunk (trunk_manager.h): providers send calls to
// the registered Contact, so the Request-URI carries it back.
//
// Threads: the functions are pure (any thread); a RegistrationContact belongs to its trunk's
// registration on the SIP thread.
#pragma once

#include <string>

#include "b2bua/config/config.h"
#include "b2bua/sip/sofia.h"
#include "b2bua/trunk/host_port.h"
#include "b2bua/trunk/nat_address.h"

namespace b2bua::trunk {

// The Contact user part that names this trunk: stable across restarts, unique per account.
std::string registration_token(const config::Trunk& trunk);

// The AoR domain: `domain` if configured, else the registrar URI's host (IPv6 in brackets).
std::string trunk_domain(const config::Trunk& trunk);

// "sip:user@domain": the address-of-record we register.
std::string trunk_aor(const config::Trunk& trunk);

// "<sip:token@address[;transport=x]>".
std::string contact_uri(const std::string& token, const HostPort& address, config::Transport transport);

// The seconds a 2xx to our REGISTER grants the Contact we sent (`sent`, user part `token`):
// that Contact's expires parameter; when it is not listed, that of another Contact with our
// token; without such a parameter, the Expires header, else `asked`. 0: the registrar did not
// keep the binding.
unsigned granted_expiry(const sip_t* response, const std::string& token, const HostPort& sent, unsigned asked);

// Our Contact at one provider, REGISTER after REGISTER: each names where the provider reaches
// us now (nat_address.h), and a binding at an address we left is removed by the next one.
class RegistrationContact {
 public:
  // `nat` must outlive this.
  RegistrationContact(std::string token, config::Transport transport, const NatAddress& nat);

  // "<sip:token@address>" where the provider reaches us now.
  std::string current() const { return contact_uri(token_, nat_.contact_address(), transport_); }
  // The Contact header of the next REGISTER: the current Contact, and the binding to remove
  // with expires=0 when there is one (RFC 3261 10.2.2), so the provider never keeps forking
  // calls to a mapping that no longer exists. Remembers the address as sent.
  std::string next_register();
  // What the last REGISTER named.
  const HostPort& sent() const { return sent_; }
  std::string sent_uri() const { return contact_uri(token_, sent_, transport_); }
  // The provider sees us elsewhere than the last REGISTER said: time to register again.
  bool moved() const { return !(nat_.contact_address() == sent_); }
  // We register elsewhere next: the binding the last REGISTER made goes with that one, when
  // removing it is right.
  void leave_sent();
  // The registrar accepted the last REGISTER, removal included.
  void registered() { stale_.clear(); }

 private:
  std::string token_;
  config::Transport transport_;
  const NatAddress& nat_;
  HostPort sent_;      // where the Contact of the last REGISTER pointed
  std::string stale_;  // a Contact to remove (expires=0) with the next REGISTER
};

}  // namespace b2bua::trunk
