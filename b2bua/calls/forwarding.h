// Where a call for an extension goes before and after its phones ring: call forwarding (the
// conditions of RFC 5806 and GSM 02.82: unconditional, busy, no answer, not reachable), do-not-
// disturb and call waiting. Pure over the extension's effective settings (extension_settings.h)
// and what is known of it now, so every rule is unit-tested; CallManager follows the answer
// (forward.cpp) through further extensions or out through a trunk.
#pragma once

#include <cstddef>
#include <string>

#include "b2bua/calls/extension_settings.h"
#include "b2bua/config/config.h"

namespace b2bua::calls {

// A forward through this many extensions is a loop (A->B->A, or a longer ring): the call ends
// with 482 and a record naming the path, instead of ringing around until a limit is hit.
inline constexpr size_t kMaxForwardHops = 5;

struct ExtensionNow {
  bool registered = true;   // some phone of the extension holds a binding
  size_t active_calls = 0;  // calls it is in now (answered or placing)
};

struct Delivery {
  enum Kind { ring, forward, refuse };
  Kind kind = ring;
  std::string target;           // forward: an extension or an external number
  const char* condition = "";   // forward, refuse: always | busy | dnd | unregistered
  int code = 0;                 // refuse: 486 (busy, do-not-disturb) or 480 (nobody registered)
};

// Unconditional forwarding first (it needs no phone), then do-not-disturb and busy (in a call
// with call waiting off, or at extensions[].max_calls) take the busy rule, then an extension
// without a registered phone takes the unregistered rule.
Delivery deliver_to(const config::Extension& extension, const ExtensionSettings::Effective& settings,
                    const ExtensionNow& now);

// An extension counts as busy for a new call (the busy rule applies).
bool is_busy(const config::Extension& extension, const ExtensionSettings::Effective& settings,
             const ExtensionNow& now);

}  // namespace b2bua::calls
