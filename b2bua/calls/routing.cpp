#include "b2bua/calls/routing.h"

#include <algorithm>

namespace b2bua::calls {
namespace {

std::string significant_digits(const std::string& n) {
  std::string d;
  for (char c : n) {
    if (c >= '0' && c <= '9') d += c;
  }
  size_t first = d.find_first_not_of('0');
  return first == std::string::npos ? std::string() : d.substr(first);
}

}  // namespace

bool same_number(const std::string& a, const std::string& b) {
  std::string x = significant_digits(a), y = significant_digits(b);
  if (x.empty() || y.empty()) return false;
  if (x == y) return true;
  const std::string& shorter = x.size() < y.size() ? x : y;
  const std::string& longer = x.size() < y.size() ? y : x;
  return shorter.size() >= 7 && longer.compare(longer.size() - shorter.size(), shorter.size(), shorter) == 0;
}

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
    if (same_number(rule.number, called)) return &rule;
  }
  return nullptr;
}

std::string presentable_number(const std::string& raw) {
  std::string out;
  for (char c : raw) {
    if ((c >= '0' && c <= '9') || c == '*' || c == '#' || (c == '+' && out.empty())) out += c;
  }
  return out.empty() || out == "+" ? "anonymous" : out;
}

}  // namespace b2bua::calls
