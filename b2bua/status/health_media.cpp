#include "b2bua/status/health_media.h"

#include <nlohmann/json.hpp>

#include "b2bua/status/snapshot_reader.h"

namespace b2bua::status {

void media_findings(const nlohmann::json& relay, std::vector<Finding>& out) {
  if (!relay.is_object() || !relay.contains("pool") || !relay["pool"].is_object()) return;
  const auto& p = relay["pool"];
  const int64_t capacity = number(p, "capacity"), in_use = number(p, "in_use");
  const int64_t failures = number(p, "allocation_failures"), elsewhere = number(p, "taken_elsewhere");
  std::string busy;
  for (const auto& port : list(p, "busy")) busy += (busy.empty() ? "" : ", ") + std::to_string(port.get<int>());
  std::string evidence = std::to_string(in_use) + " of " + std::to_string(capacity) + " port pairs in use; " +
                         std::to_string(number(p, "probed")) + " free pairs probed" +
                         (busy.empty() ? ", none held by another program" : ", held by another program: " + busy);
  if (elsewhere) evidence += "; " + std::to_string(elsewhere) + " ports found taken when a call tried them";
  if (failures) {
    evidence += "; " + std::to_string(failures) + " calls got no ports, the last at " +
                time_text(number(p, "last_failure_at"), true) + ": " + text(p, "last_failure");
    out.push_back({"media.ports", Verdict::problem, "calls failed for want of relay ports", evidence,
                   "widen media.ports, or stop the program that holds ports of the range (ss -uanp shows it)"});
  } else if (!busy.empty() || elsewhere) {
    out.push_back({"media.ports", Verdict::warning, "another program holds ports of the relay's range", evidence,
                   "move that program or media.ports apart (ss -uanp shows who holds them)"});
  } else {
    out.push_back({"media.ports", Verdict::ok, "the relay's ports are free", evidence, ""});
  }
}

}  // namespace b2bua::status
