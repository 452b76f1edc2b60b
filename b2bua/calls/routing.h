// Which way a call goes: pure functions over the config, so every rule is unit-tested.
#pragma once

#include <string>

#include "b2bua/config/config.h"

namespace b2bua::calls {

struct OutboundRoute {
  const config::Trunk* trunk = nullptr;  // null: no route
  std::string number;                    // what the trunk is asked to call
  bool emergency = false;                // exempt from call limits
};

// The first outbound rule whose prefix matches `dialled` (emergency numbers take the rule that
// matches them too, and are flagged). Disabled trunks never match.
OutboundRoute route_outbound(const config::Config& config, const std::string& dialled);

// The inbound rule for a called number as a provider sent it: an exact match first, then the
// first rule whose number is the same under number::same_number (b2bua/common/phone_number.h).
const config::InboundRoute* route_inbound(const config::Config& config, const std::string& called);

}  // namespace b2bua::calls
