// `b2bua doctor [--config FILE] [--json]`: asks the running daemon for its status (as `b2bua
// status` does) and prints the "health" findings (health.h): problems first, then warnings,
// then what is fine, each with what it is, the evidence and the one thing to do. It adds one
// finding of its own, "network.nat": the NATs between b2bua and its provider, which it probes
// itself (nat_path.h), so it must run on the machine (or network namespace) of the daemon.
#pragma once

#include <cstdio>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace b2bua::status {

// Exit code: 0 all ok, 1 warnings, 2 problems or no answer from the daemon (the message names
// the address tried).
int run_doctor_command(const std::string& config_path, bool raw_json, FILE* out, FILE* err);

// The findings array ("health") as text, problems first; and the exit code it calls for.
std::string render_findings_text(const nlohmann::json& findings);
int findings_exit_code(const nlohmann::json& findings);

}  // namespace b2bua::status
