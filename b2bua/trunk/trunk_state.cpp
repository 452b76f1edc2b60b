#include "b2bua/trunk/trunk_state.h"

namespace b2bua::trunk {

const char* state_name(TrunkState state) {
  switch (state) {
    case TrunkState::disabled: return "disabled";
    case TrunkState::unregistered: return "unregistered";
    case TrunkState::registering: return "registering";
    case TrunkState::registered: return "registered";
    case TrunkState::auth_failed: return "auth_failed";
    case TrunkState::backoff: return "backoff";
  }
  return "disabled";
}

}  // namespace b2bua::trunk
