#include "b2bua/trunk/alg_detector.h"

namespace b2bua::trunk {

std::optional<std::string> AlgDetector::report(const std::string& kind, const std::string& what) {
  if (!seen_.insert(kind).second) return std::nullopt;
  return what;
}

std::optional<std::string> AlgDetector::inspect(const sip_t* response, const HostPort& sent_via,
                                                const std::string& token, const HostPort& sent_contact,
                                                const std::optional<HostPort>& server) {
  if (!response) return std::nullopt;
  contacts_sent_.insert(sent_contact.str());
  if (const sip_via_t* via = response->sip_via; via && via->v_host) {
    HostPort echoed{via->v_host, port_or(via->v_port, 5060)};
    if (!(echoed == HostPort{sent_via.host, sent_via.port ? sent_via.port : uint16_t{5060}})) {
      return report("via", "Via sent-by " + sent_via.str() + " came back as " + echoed.str());
    }
    if (is_private_ip(sent_via.host) && !via->v_received) {
      return report("via_received", "Via named private " + sent_via.host +
                                        " but the provider added no received (it saw a rewritten Via)");
    }
    // Across a NAT a public server sees the router's address, never ours; without a NAT a
    // private received is normal (a provider in the same LAN), hence the server check.
    if (via->v_received && is_private_ip(via->v_received) && server && is_ip_literal(server->host) &&
        !is_private_ip(server->host)) {
      return report("received_private", "the provider at " + server->host + " reported received=" +
                                            via->v_received + ", a private address: translated back on the way in");
    }
  }
  if (response->sip_status && response->sip_status->st_status == 200) {
    for (const sip_contact_t* m = response->sip_contact; m; m = m->m_next) {
      const url_t* u = m->m_url;
      if (!u || !u->url_user || token != u->url_user || !u->url_host) continue;
      HostPort listed{u->url_host, port_or(u->url_port, 5060)};
      if (contacts_sent_.count(listed.str())) continue;
      bool provider_marked = m->m_params && msg_params_find(m->m_params, "received=");
      if (!provider_marked) {
        return report("contact", "Contact " + sent_contact.str() + " was registered as " + listed.str());
      }
    }
  }
  return std::nullopt;
}

}  // namespace b2bua::trunk
