// One health rule (health.h): a trunk's keep-alive interval against the NAT mapping lifetime
// measured for it (trunk/nat_lifetime.h). Pure; reads only the trunk's snapshot entry.
//
//   - interval at or above the measured lifetime: the mapping expires between keep-alives and
//     calls from the provider are lost until the next one (problem);
//   - "auto" but no measurement possible (no wan.stun, a server without RFC 5780, a silent
//     one): the configured interval is a guess (warning, with the reason).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>

#include "b2bua/status/health.h"

namespace b2bua::status {

// The finding for one entry of status["trunks"], or nullopt when there is nothing to say.
std::optional<Finding> keepalive_vs_lifetime(const nlohmann::json& trunk);

}  // namespace b2bua::status
