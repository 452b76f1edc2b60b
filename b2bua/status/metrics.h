// GET /metrics: the status snapshot (snapshot.h) in the Prometheus text exposition format 0.0.4.
//
// Rendered from the same snapshot as /status so the two never disagree. A family is emitted only
// when the snapshot carries its data (e.g. b2bua_trunk_registered once the trunk feature reports
// a state): an absent series means "not known", never a made-up zero.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace b2bua::status {

inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string render_metrics(const nlohmann::json& status);

}  // namespace b2bua::status
