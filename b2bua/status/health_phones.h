// The health rules (health.h) about one extension's phones beyond "registered or not": a
// phone behind another NAT (its REGISTER comes from another address than the Contact it
// names: something between the phone and b2bua translates its address), and why a phone last
// failed to register (extensions[].last_register_failure, registrar/failure_log.h) -- a wrong
// password, a source outside lan.networks, a blocked source -- with its time and address.
// Failures under user names that are no extension (registrar.unknown_user_failures) are
// summed up in one finding.
//
// Pure functions of the snapshot, called by health.cpp's rules on the status thread.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "b2bua/status/health.h"

namespace b2bua::status {

// extension.<n>.nat and extension.<n>.last_failure, appended to `out`. A failure older than
// `window_s` before `now_s` is history and yields nothing (now_s 0: every failure counts).
void phone_findings(const nlohmann::json& extension, int64_t now_s, int64_t window_s, std::vector<Finding>& out);

// registrar.unknown_users: logins under names that are no extension, within the window.
void unknown_user_findings(const nlohmann::json& registrar, int64_t now_s, int64_t window_s, std::vector<Finding>& out);

}  // namespace b2bua::status
