#include "b2bua/status/snapshot.h"

#include <cstring>
#include <exception>

#include "b2bua/common/destination_class.h"
#include "b2bua/common/version.h"
#include "media/media_plane.h"
#include "storage/store.h"

namespace b2bua::status {
namespace {

const char* transport_name(config::Transport t) {
  switch (t) {
    case config::Transport::udp: return "udp";
    case config::Transport::tcp: return "tcp";
    case config::Transport::tls: return "tls";
  }
  return "udp";
}

std::string keepalive_text(const config::Keepalive& k) {
  std::string every = k.automatic ? "auto" : std::to_string(k.interval) + "s";
  switch (k.method) {
    case config::KeepaliveMethod::crlf: return "crlf/" + every;
    case config::KeepaliveMethod::options: return "options/" + every;
    case config::KeepaliveMethod::off: return "off";
  }
  return "off";
}

// Trunks are named, extensions numbered: the key that identifies an entry in each list.
const char* id_key(const char* list) { return std::strcmp(list, "extensions") == 0 ? "number" : "name"; }

nlohmann::json media_stats(const std::string& text) {
  if (text.empty()) return nlohmann::json::object();
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  return parsed.is_discarded() ? nlohmann::json::object() : parsed;
}

}  // namespace

void add_configured_view(nlohmann::json& status, const config::Config& config) {
  // Only keys named here are copied: a new secret added to the config cannot leak by default.
  // Keys a feature has already set win: they are live, these are only what the file says.
  auto fill = [](nlohmann::json& item, const nlohmann::json& configured) {
    for (const auto& [key, value] : configured.items()) {
      if (!item.contains(key)) item[key] = value;
    }
  };
  for (const auto& t : config.trunks) {
    fill(entry(status, "trunks", t.name), {{"enabled", t.enabled},
                                           {"registrar", t.registrar},
                                           {"username", t.username},
                                           {"transport", transport_name(t.transport)},
                                           {"register", t.register_enabled},
                                           {"keepalive", keepalive_text(t.keepalive)},
                                           {"numbers", t.numbers}});
  }
  for (const auto& e : config.extensions) {
    nlohmann::json allow = nlohmann::json::array();
    for (auto c : e.allow) allow.push_back(number::class_name(c));
    fill(entry(status, "extensions", e.number),
         {{"name", e.name}, {"outbound", e.outbound}, {"max_calls", e.max_calls}, {"allow", allow}});
  }
  if (!status.contains("trunks")) status["trunks"] = nlohmann::json::array();
  if (!status.contains("extensions")) status["extensions"] = nlohmann::json::array();
}

nlohmann::json& entry(nlohmann::json& status, const char* list, const std::string& id) {
  auto& items = status[list];
  if (!items.is_array()) items = nlohmann::json::array();
  const char* key = id_key(list);
  for (auto& item : items) {
    if (item.is_object() && item.value(key, std::string()) == id) return item;
  }
  items.push_back({{key, id}});
  return items.back();
}

void add_relay_totals(nlohmann::json& status, const media::RelayTotals& totals) {
  using media::Side;
  auto& relay = status["relay"] = nlohmann::json::object();
  relay["sessions"] = totals.sessions;
  auto& packets = relay["packets"] = nlohmann::json::object();
  auto& bytes = relay["bytes"] = nlohmann::json::object();
  for (Side from : {Side::lan, Side::wan}) {
    for (Side to : {Side::lan, Side::wan}) {
      const std::string direction = std::string(media::side_name(from)) + "_to_" + media::side_name(to);
      packets[direction] = totals.flow(from, to).packets;
      bytes[direction] = totals.flow(from, to).bytes;
    }
  }
  auto& dropped = relay["dropped"] = nlohmann::json::object();
  for (size_t r = 0; r < media::kDropReasons; ++r) {
    const auto reason = static_cast<media::DropReason>(r);
    dropped[media::drop_reason_name(reason)] = totals.drops(reason);
  }
  const auto& p = totals.pool;
  relay["pool"] = {{"capacity", p.capacity}, {"in_use", p.in_use}, {"allocation_failures", p.allocation_failures},
                   {"taken_elsewhere", p.taken_elsewhere}, {"last_failure", p.last_failure},
                   {"last_failure_at", p.last_failure_at}, {"probed", p.probed}, {"busy", p.busy}};
}

void add_process_facts(nlohmann::json& status, const ProcessFacts& facts) {
  status["version"] = kVersion;
  status["pid"] = facts.pid;
  status["started_at"] = facts.started_at;
  status["uptime_s"] = facts.now_ms / 1000 - facts.started_at;
  status["generated_at"] = facts.now_ms;
}

void add_recent_calls(nlohmann::json& status, storage::CallRecordRepository& records, size_t limit) {
  auto& list = status["recent_calls"] = nlohmann::json::array();
  try {
    for (const auto& r : records.recent(limit)) {
      list.push_back({{"id", r.id},
                      {"call_id", r.call_id},
                      {"direction", r.direction},
                      {"extension", r.extension},
                      {"trunk", r.trunk},
                      {"remote_number", r.remote_number},
                      {"start_ms", r.start_ms},
                      {"answer_ms", r.answer_ms},
                      {"end_ms", r.end_ms},
                      {"final_code", r.final_code},
                      {"hangup_by", r.hangup_by},
                      {"notes", r.notes},
                      {"media", media_stats(r.media_stats_json)}});
    }
  } catch (const std::exception& e) {
    status["recent_calls_error"] = e.what();
  }
}

std::string to_json_text(const nlohmann::json& status) {
  return status.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace b2bua::status
