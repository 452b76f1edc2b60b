// The daemon's root object: owns the config, storage, the media plane and the SIP thread, and
// turns signals into lifecycle steps (SIGHUP: reload; SIGTERM/SIGINT: orderly stop).
#pragma once

#include <memory>
#include <string>

namespace b2bua::daemon {

// Runs in the foreground until SIGTERM/SIGINT. Returns the process exit code: 0 after an
// orderly stop, 1 when the config or the database is unusable or an address cannot be bound.
int run_daemon(const std::string& config_path);

}  // namespace b2bua::daemon
