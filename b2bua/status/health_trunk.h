// The health rules (health.h) about the way to one trunk's provider: what DNS answered and
// which servers were tried in what order, whether the registrar answers the keep-alive's
// OPTIONS and how fast, and the last REGISTER that went wrong as the provider answered it
// (trunks[].last_failure, trunk/failed_exchange.h).
//
// Pure functions of the snapshot, called by health.cpp's rules on the status thread.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "b2bua/status/health.h"

namespace b2bua::status {

// The registration finding of a trunk that is not registered, from its last failing exchange:
// "the provider answered 503 Service Unavailable (Retry-After 30)", "the provider refuses the
// password of trunk x for realm y", "the provider does not answer". nullopt when the snapshot
// has no last_failure (then health.cpp's older rule speaks from last_status).
std::optional<Finding> registration_failure(const nlohmann::json& trunk);

// trunk.<name>.dns, trunk.<name>.reachability and, for a registered trunk, trunk.<name>.last_failure
// when one is recorded: appended to `out`.
void trunk_path_findings(const nlohmann::json& trunk, std::vector<Finding>& out);

// The exchange as one line for evidence: "REGISTER sip:x SIP/2.0 -> SIP/2.0 403 Forbidden
// (after answering WWW-Authenticate Digest realm="x", algorithm MD5) from ip:port at time".
std::string exchange_text(const nlohmann::json& last_failure);

}  // namespace b2bua::status
