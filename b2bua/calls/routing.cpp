#include "b2bua/calls/routing.h"

#include <algorithm>

#include "b2bua/common/phone_number.h"

namespace b2bua::calls {
OutboundRoute route_outbound(const config::Config& config, const std::string& dialled) {
  OutboundRoute route;
  route.emergency = std::find(config.routing.emergency.begin(), config.routing.emergency.end(), dialled) !=
                    config.routing.emergency.end();
  for (const auto& rule : config.routing.outbound) {
    if (dialled.compare(0, rule.prefix.size(), rule.prefix) != 0) continue;
    const config::Trunk* trunk = config.find_trunk(rule.trunk);
    if (!trunk || !trunk->enabled) continue;
    size_t strip = std::min<size_t>(static_cast<size_t>(rule.strip), dialled.size());
    route.trunk = trunk;
    // Emergency numbers go out exactly as dialled: no prefix games with 112.
    route.number = route.emergency ? dialled : rule.add + dialled.substr(strip);
    return route;
  }
  return route;
}

const config::InboundRoute* route_inbound(const config::Config& config, const std::string& called) {
  for (const auto& rule : config.routing.inbound) {
    if (rule.number == called) return &rule;
  }
  for (const auto& rule : config.routing.inbound) {
    if (number::same_number(rule.number, called)) return &rule;
  }
  return nullptr;
}

}  // namespace b2bua::calls
