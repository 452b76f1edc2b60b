#include "b2bua/calls/forwarding.h"

namespace b2bua::calls {
namespace {

Delivery busy_rule(const ExtensionSettings::Effective& settings, const char* condition) {
  if (settings.forward.busy) return Delivery{Delivery::forward, *settings.forward.busy, condition, 0};
  return Delivery{Delivery::refuse, {}, condition, 486};
}

}  // namespace

bool is_busy(const config::Extension& extension, const ExtensionSettings::Effective& settings,
             const ExtensionNow& now) {
  if (now.active_calls >= static_cast<size_t>(extension.max_calls)) return true;
  return !settings.call_waiting && now.active_calls > 0;
}

Delivery deliver_to(const config::Extension& extension, const ExtensionSettings::Effective& settings,
                    const ExtensionNow& now) {
  if (settings.forward.always) return Delivery{Delivery::forward, *settings.forward.always, "always", 0};
  if (settings.dnd) return busy_rule(settings, "dnd");
  if (is_busy(extension, settings, now)) return busy_rule(settings, "busy");
  if (!now.registered) {
    if (settings.forward.unregistered) {
      return Delivery{Delivery::forward, *settings.forward.unregistered, "unregistered", 0};
    }
    return Delivery{Delivery::refuse, {}, "unregistered", 480};
  }
  return Delivery{};
}

}  // namespace b2bua::calls
