#include "b2bua/trunk/registration_contact.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "b2bua/sip/digest_hash.h"
#include "b2bua/trunk/server_list.h"

namespace b2bua::trunk {
namespace {

unsigned parse_delta(const char* text, unsigned fallback) {
  if (!text || !*text) return fallback;
  char* end = nullptr;
  unsigned long v = std::strtoul(text, &end, 10);
  return end && *end == '\0' ? static_cast<unsigned>(std::min(v, 86400ul * 365)) : fallback;
}

}  // namespace

std::string registration_token(const config::Trunk& trunk) {
  return "b2t" + sip::md5_hex(trunk.name + "\n" + trunk.username + "\n" + trunk.registrar).substr(0, 12);
}

std::string trunk_domain(const config::Trunk& trunk) {
  return uri_host(trunk.domain ? *trunk.domain : parse_sip_target(trunk.registrar).host);
}

std::string trunk_aor(const config::Trunk& trunk) { return "sip:" + trunk.username + "@" + trunk_domain(trunk); }

std::string contact_uri(const std::string& token, const HostPort& address, config::Transport transport) {
  return "<sip:" + token + "@" + address.str() + transport_param(transport) + ">";
}

unsigned granted_expiry(const sip_t* response, const std::string& token, const HostPort& sent, unsigned asked) {
  unsigned fallback =
      response && response->sip_expires ? static_cast<unsigned>(response->sip_expires->ex_delta) : asked;
  std::optional<unsigned> ours;
  for (const sip_contact_t* m = response ? response->sip_contact : nullptr; m; m = m->m_next) {
    const url_t* u = m->m_url;
    if (!u || !u->url_user || token != u->url_user || !u->url_host) continue;
    unsigned e = parse_delta(m->m_expires, fallback);
    if (HostPort{u->url_host, port_or(u->url_port, 5060)} == sent) return e;
    if (!ours) ours = e;
  }
  return ours ? *ours : fallback;
}

RegistrationContact::RegistrationContact(std::string token, config::Transport transport, const NatAddress& nat)
    : token_(std::move(token)), transport_(transport), nat_(nat) {}

std::string RegistrationContact::next_register() {
  sent_ = nat_.contact_address();
  std::string contacts = sent_uri();
  if (!stale_.empty()) contacts += ", " + stale_ + ";expires=0";
  return contacts;
}

void RegistrationContact::leave_sent() {
  // A binding at our private bind address is useless to the provider, and naming that address
  // again (even to remove it) is what we promise never to do once a public one is known: it
  // expires on its own. A binding at an old public address is removed at once. On TCP/TLS the
  // Contact moves to the connection's port even without a NAT; a public bind address left
  // bound there would get the provider's requests on new connections instead of ours.
  bool stream = transport_ != config::Transport::udp;
  if (!(sent_ == nat_.local()) || (stream && !is_private_ip(sent_.host))) stale_ = sent_uri();
}

}  // namespace b2bua::trunk
