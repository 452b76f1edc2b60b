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

// The inbound rule for a called number as a provider sent it. Providers write the same number
// as "+4930123456", "4930123456", "004930123456" or "030123456"; numbers match when their
// digits are equal after dropping a leading "+" and zeros, or when one ends with the other and
// the common tail has at least 7 digits (national vs international form).
const config::InboundRoute* route_inbound(const config::Config& config, const std::string& called);

// True when both name the same phone number under the rule above.
bool same_number(const std::string& a, const std::string& b);

// The user part of a number as presented to phones: digits, '+', '*', '#' only; "anonymous"
// when nothing usable is left.
std::string presentable_number(const std::string& raw);

}  // namespace b2bua::calls
