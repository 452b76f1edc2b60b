// The health rule (health.h) about the relay's port range: whether calls got their ports
// (relay.pool in the snapshot: allocations that failed, ports of the range another program
// holds, found when a call tried them and by probing a sample of the free pairs). The daemon
// holds the pairs of its calls itself, so only free pairs are probed.
//
// A pure function of the snapshot, called by health.cpp's rules on the status thread.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "b2bua/status/health.h"

namespace b2bua::status {

// media.ports, appended to `out` when the snapshot has relay.pool.
void media_findings(const nlohmann::json& relay, std::vector<Finding>& out);

}  // namespace b2bua::status
