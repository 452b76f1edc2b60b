// systemd's readiness protocol (sd_notify), spoken directly: one datagram to $NOTIFY_SOCKET.
// Without systemd (no NOTIFY_SOCKET) it does nothing.
#pragma once

#include <string>

namespace b2bua::daemon {

void notify_service_manager(const std::string& state);  // "READY=1", "RELOADING=1", "STOPPING=1"

}  // namespace b2bua::daemon
