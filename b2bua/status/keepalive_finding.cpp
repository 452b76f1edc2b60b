#include "b2bua/status/keepalive_finding.h"

#include <nlohmann/json.hpp>
#include <string>

namespace b2bua::status {

std::optional<Finding> keepalive_vs_lifetime(const nlohmann::json& t) {
  if (!t.is_object()) return std::nullopt;
  const std::string name = t.value("name", "");
  const std::string state = t.contains("nat_lifetime_state") && t["nat_lifetime_state"].is_string()
                                ? t["nat_lifetime_state"].get<std::string>() : "";
  const auto interval = t.contains("keepalive_interval_s") && t["keepalive_interval_s"].is_number_unsigned()
                            ? t["keepalive_interval_s"].get<unsigned>() : 0u;
  const std::string id = "trunk." + name + ".keepalive";
  if (state == "measured" && t.contains("nat_lifetime_s") && t["nat_lifetime_s"].is_number_unsigned()) {
    const auto lifetime = t["nat_lifetime_s"].get<unsigned>();
    if (interval == 0 || interval < lifetime) return std::nullopt;
    return Finding{id, Verdict::problem,
                   "trunk " + name + "'s keep-alive is too slow for the router: its NAT forgets the mapping first",
                   "keep-alive every " + std::to_string(interval) + " s, measured mapping lifetime " +
                       std::to_string(lifetime) + " s",
                   "set the trunk's keepalive.interval to \"auto\" or below " + std::to_string(lifetime) + " s"};
  }
  if (state == "unavailable") {
    return Finding{id, Verdict::warning,
                   "trunk " + name + "'s keep-alive interval could not be sized to the router's NAT",
                   t.value("nat_lifetime_reason", std::string("no measurement")) + "; keep-alive every " +
                       std::to_string(interval) + " s",
                   "set wan.stun to a STUN server with RFC 5780 support (coturn on two addresses)"};
  }
  return std::nullopt;
}

}  // namespace b2bua::status
