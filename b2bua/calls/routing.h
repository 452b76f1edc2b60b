// Which way a call goes: pure functions over the config, so every rule is unit-tested.
#pragma once

#include <string>
#include <vector>

#include "b2bua/common/destination_class.h"
#include "b2bua/config/config.h"

namespace b2bua::calls {

struct OutboundRoute {
  // The enabled trunks to try, in order (the next when one fails before the callee answered,
  // or is not registered); empty: no route (or a deny rule).
  std::vector<const config::Trunk*> trunks;
  bool denied = false;                   // a rule with "trunk": null matched: refuse
  std::string number;                    // what the trunk is asked to call (as dialled when denied)
  bool emergency = false;                // exempt from every limit and refusal
  // destination_class() of `number`; the class the extension's allow list is checked against.
  number::DestinationClass destination = number::DestinationClass::national;
};

// The class of an external number as it reaches the trunk: emergency when it is one of
// routing.emergency, else what the country's table (routing.country, routing.classes) says.
// Classed after the rule's strip/add, since that is the number the provider bills.
number::DestinationClass destination_class(const config::Config& config, const std::string& number);

// The first outbound rule whose prefix matches `dialled` with an enabled trunk (emergency numbers
// take the rule that matches them too, are flagged and pass deny rules by; they need no rule,
// and every other enabled trunk follows the rule's, so a 112 finds any trunk that works).
// Disabled trunks never match.
OutboundRoute route_outbound(const config::Config& config, const std::string& dialled);

// The inbound rule for a called number as a provider sent it: an exact match first, then the
// first rule whose number is the same under number::same_number (b2bua/common/phone_number.h).
const config::InboundRoute* route_inbound(const config::Config& config, const std::string& called);

}  // namespace b2bua::calls
