#include "b2bua/daemon/call_ports.h"

namespace b2bua::daemon {
namespace {

// "sip:sip.example.net:5060;transport=udp" -> "sip.example.net"
std::string uri_host(const std::string& uri) {
  std::string rest = uri.substr(uri.find(':') + 1);
  if (auto at = rest.find('@'); at != std::string::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest[0] == '[') return rest.substr(0, rest.find(']') + 1);
  return rest.substr(0, rest.find_first_of(":;>"));
}

// "203.0.113.9:5060" or "[2001:db8::1]:5060" -> the address alone.
std::string address_of(const std::string& host_port) {
  if (!host_port.empty() && host_port[0] == '[') return host_port.substr(1, host_port.find(']') - 1);
  return host_port.substr(0, host_port.rfind(':'));
}

}  // namespace

std::vector<calls::PhoneTarget> RegistrarPhones::reachable(const std::string& extension) const {
  std::vector<calls::PhoneTarget> targets;
  for (const auto& b : registrar_.reachable_bindings(extension)) {
    targets.push_back({extension, b.contact, registrar::flow_uri(b), b.q});
  }
  return targets;
}

std::optional<calls::TrunkRoute> TrunkRoutes::route(const config::Trunk& trunk) const {
  if (!trunks_) return std::nullopt;
  auto identity = trunks_->outbound_identity(trunk.name);
  if (!identity) return std::nullopt;
  calls::TrunkRoute r;
  r.domain = uri_host(identity->aor);
  r.contact = identity->contact;
  // The resolved server the trunk registers through; before any resolution (or for a trunk
  // that does not register), its outbound proxy or registrar as configured.
  r.proxy = !identity->route.empty() ? identity->route : trunk.outbound_proxy ? *trunk.outbound_proxy : trunk.registrar;
  // SDP towards the provider names the relay's public address: configured, else learned from
  // the trunk's registration (Via received), else the WAN bind address.
  const config::Wan& wan = config_->wan;
  r.media_address = wan.address;
  if (wan.public_address) {
    r.media_address = *wan.public_address;
  } else if (const trunk::TrunkRegistration* reg = trunks_->find(trunk.name)) {
    if (auto learned = reg->snapshot().public_address; !learned.empty()) r.media_address = address_of(learned);
  }
  return r;
}

}  // namespace b2bua::daemon
