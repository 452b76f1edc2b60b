#include "b2bua/calls/routing.h"

#include <algorithm>

#include "b2bua/common/phone_number.h"

namespace b2bua::calls {
namespace {

bool is_emergency(const config::Config& config, const std::string& number) {
  return std::find(config.routing.emergency.begin(), config.routing.emergency.end(), number) !=
         config.routing.emergency.end();
}

}  // namespace

number::DestinationClass destination_class(const config::Config& config, const std::string& number) {
  if (is_emergency(config, number)) return number::DestinationClass::emergency;
  return number::classify(config.routing.classes, number);
}

OutboundRoute route_outbound(const config::Config& config, const std::string& dialled) {
  OutboundRoute route;
  route.emergency = is_emergency(config, dialled);
  for (const auto& rule : config.routing.outbound) {
    if (dialled.compare(0, rule.prefix.size(), rule.prefix) != 0) continue;
    if (rule.trunks.empty()) {
      if (route.emergency) continue;  // a catch-all deny must not silence 112
      route.denied = true;
      route.number = dialled;
      break;
    }
    for (const auto& name : rule.trunks) {
      const config::Trunk* trunk = config.find_trunk(name);
      if (trunk && trunk->enabled) route.trunks.push_back(trunk);
    }
    if (route.trunks.empty()) continue;
    size_t strip = std::min<size_t>(static_cast<size_t>(rule.strip), dialled.size());
    // Emergency numbers go out exactly as dialled: no prefix games with 112.
    route.number = route.emergency ? dialled : rule.add + dialled.substr(strip);
    break;
  }
  if (route.emergency) {
    route.number = dialled;
    for (const auto& trunk : config.trunks) {
      if (trunk.enabled && std::find(route.trunks.begin(), route.trunks.end(), &trunk) == route.trunks.end()) {
        route.trunks.push_back(&trunk);
      }
    }
  }
  route.destination = route.emergency ? number::DestinationClass::emergency
                                      : destination_class(config, route.number.empty() ? dialled : route.number);
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
