// The calls' part of the status snapshot (GET /status, b2bua status, metrics): every call in
// progress with its state and relay ports, and the count of ended calls by final code. Numbers
// and extensions only; nothing of a SIP message.
#include <nlohmann/json.hpp>

#include "b2bua/calls/call_manager.h"
#include "b2bua/common/clock.h"
#include "b2bua/status/snapshot.h"

namespace b2bua::calls {

void CallManager::describe(nlohmann::json& status) const {
  int64_t now_ms = clock::unix_ms();
  nlohmann::json active = nlohmann::json::array();
  for (const auto& [id, call] : calls_) {
    const CallRecord& r = call->record;
    nlohmann::json ports = nlohmann::json::array();
    for (const auto& s : call->streams) {
      if (s) ports.push_back({{"a", s->legs[0].rtp_port}, {"b", s->legs[1].rtp_port}});
    }
    active.push_back({{"id", id}, {"direction", direction_name(r.direction)}, {"extension", r.extension},
                      {"trunk", r.trunk}, {"remote_number", r.remote_number},
                      {"state", call->winner ? "answered" : "ringing"},
                      {"duration_s", (now_ms - (r.answer_ms ? r.answer_ms : r.start_ms)) / 1000},
                      {"relay_ports", ports}, {"one_way_audio", call->one_way}});
  }
  status["calls"] = active;
  nlohmann::json codes = nlohmann::json::object();
  for (const auto& [code, n] : final_codes_) codes[std::to_string(code)] = n;
  nlohmann::json blocked = nlohmann::json::object();
  for (const auto& [reason, n] : blocked_callers_) blocked[reason] = n;
  nlohmann::json one_way = nlohmann::json::object();
  for (const auto& [network, n] : one_way_calls_) one_way[network] = n;
  status["call_totals"] = {{"active", active.size()}, {"by_final_code", codes}, {"blocked_by_reason", blocked},
                           {"one_way_audio_by_side", one_way},
                           {"records_suppressed", refused_records_.suppressed_total()}};
  outbound_limits_.describe(status, *config_, now_ms / 1000);
  // Forwarding, do-not-disturb and call waiting as they apply now (the phone's codes over the file).
  const nlohmann::json features_by_extension = settings_.describe(*config_);
  for (const auto& [number, features] : features_by_extension.items()) {
    status::entry(status, "extensions", number)["features"] = features;
  }
}

}  // namespace b2bua::calls
