// `b2bua status [--config FILE] [--json]`: asks the running daemon named by the config's
// status.listen (and status.token) for GET /status and prints it as tables, or the raw JSON.
#pragma once

#include <cstdint>
#include <cstdio>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

namespace b2bua::status {

// GET /status from the daemon that `config_path` names (status.listen, status.token). On failure
// prints why to `err`, as "b2bua <command>: ...", naming the address it tried, and returns nullopt.
std::optional<nlohmann::json> ask_daemon(const std::string& config_path, const std::string& command, FILE* err);

// Exit code: 0 printed, 1 the config is unusable or the daemon did not answer with 200.
int run_status_command(const std::string& config_path, bool raw_json, FILE* out, FILE* err);

// The snapshot as the terminal tables `b2bua status` prints; `now_ms` makes "in 5m" testable.
std::string render_status_text(const nlohmann::json& status, int64_t now_ms);

}  // namespace b2bua::status
