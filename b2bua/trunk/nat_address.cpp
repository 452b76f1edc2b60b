#include "b2bua/trunk/nat_address.h"

namespace b2bua::trunk {

NatAddress::NatAddress(const std::optional<std::string>& configured_public, HostPort local)
    : local_(std::move(local)) {
  if (configured_public && !configured_public->empty()) {
    auto configured = parse_host_port(*configured_public, local_.port);
    configured_ = configured.has_value();
    if (configured) public_ = *configured;
  }
}

bool NatAddress::learn(const sip_via_t* via) {
  if (configured_ || !via) return false;
  // Without received and without an rport value the provider told us nothing (RFC 3581
  // servers always add received when we asked with rport; old ones never do).
  bool has_rport_value = via->v_rport && *via->v_rport;
  if (!via->v_received && !has_rport_value) return false;
  HostPort seen;
  seen.host = via->v_received ? via->v_received : (via->v_host ? via->v_host : "");
  if (seen.host.empty() || !is_ip_literal(seen.host)) return false;
  const char* port = has_rport_value ? via->v_rport : via->v_port;
  seen.port = port ? parse_port(port).value_or(0) : 5060;
  if (seen.port == 0 || seen == public_) return false;
  public_ = seen;
  return true;
}

void NatAddress::restore(const std::string& stored) {
  if (configured_ || stored.empty()) return;
  auto hp = parse_host_port(stored, local_.port);
  if (hp && is_ip_literal(hp->host)) public_ = *hp;
}

HostPort NatAddress::contact_address() const {
  if (!public_.empty()) return public_;
  // Behind a NAT, before the first response: never the private address (see host_port.h).
  if (is_private_ip(local_.host)) return HostPort{kUnknownPublicHost, local_.port};
  return local_;
}

HostPort NatAddress::sent_by() const {
  return HostPort{via_sent_by_host(configured_ ? std::optional<std::string>(public_.host) : std::nullopt, local_.host),
                  local_.port};
}

std::string NatAddress::public_address() const { return public_.empty() ? "" : public_.str(); }

}  // namespace b2bua::trunk
