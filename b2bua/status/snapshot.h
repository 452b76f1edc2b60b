// The status snapshot: one JSON document that GET /status returns, GET /metrics and the status
// page are rendered from, and `b2bua status` prints. Built on request (see status_server.h):
// the SIP thread fills the configured view and every feature's live part, the status thread
// adds process facts and the last call records. Every key below is optional for a reader: a
// part is present only once the code that knows it exists; readers show what is there.
//
// Top-level schema (features: fill your part in Feature::describe, on the SIP thread):
//
//   "version":       "0.1.0"                      status thread
//   "pid":           1234                         status thread
//   "started_at":    unix seconds                 status thread
//   "uptime_s":      seconds                      status thread
//   "generated_at":  unix milliseconds            status thread
//   "trunks": [                                   configured view (SIP thread), one per trunk,
//     { "name", "enabled", "registrar",           in config order; the trunk feature adds its
//       "username", "transport", "numbers": [..], live fields to the entry with the same name
//       "register": bool, "keepalive": "crlf/20s",(use status::entry(status, "trunks", name)):
//       "state": "registered" | "registering" | "failed" | "disabled" | "unregistered",
//       "registered_until": unix s, "public_address": "ip:port", "last_status": 200,
//       "last_reason": "OK", "keepalive_rtt_ms": 12.5, "alg_detected": false }
//   ],
//   "extensions": [                               configured view, one per extension; the
//     { "number", "name", "outbound",             registrar adds "bindings" to the entry with
//       "max_calls",                              the same number (status::entry(status,
//       "bindings": [ { "contact", "source": "ip:port", "transport", "user_agent",
//                       "expires_at": unix s, "reachable": bool } ] }      "extensions", n))
//   ],
//   "registrar": { "auth_failures_total", "blocks_total", "blocked_now" }       registrar
//   "calls": [ { "id", "direction", "extension", "trunk", "from", "to",        calls feature;
//                "state", "started_at_ms", "answered_at_ms",                    absent means
//                "legs": [ { "side": "lan" | "wan", "relay": "ip:port",       "not known",
//                            "remote": "ip:port", "packets", "lost",           [] means none
//                            "jitter_ms" } ] } ],
//   "call_totals": { "by_final_code": { "200": 12, "486": 1 } }  calls feature, since start
//   "relay": { "sessions", "packets_total", "dropped_source_total",            media plane
//              "dropped_invalid_total" }
//   "recent_calls": [ { "id", "call_id", "direction", "extension", "trunk",   status thread,
//                       "remote_number", "start_ms", "answer_ms", "end_ms",    from storage,
//                       "final_code", "hangup_by", "media": {..} } ]           newest first
//
// Never put a password, HA1, nonce, digest response or the status token in it: the snapshot is
// served as is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "b2bua/config/config.h"

namespace b2bua::storage {
class CallRecordRepository;
}

namespace b2bua::status {

inline constexpr size_t kRecentCalls = 50;

// SIP thread: "trunks" and "extensions" as configured (no secrets), for features to enrich.
void add_configured_view(nlohmann::json& status, const config::Config& config);

// The object in status[list] whose "name" (trunks) or "number" (extensions) equals `id`;
// appended (with only that key) when there is none, so a feature never loses its data.
nlohmann::json& entry(nlohmann::json& status, const char* list, const std::string& id);

struct ProcessFacts {
  int64_t pid = 0;
  int64_t started_at = 0;   // unix seconds
  int64_t now_ms = 0;       // unix milliseconds
};
void add_process_facts(nlohmann::json& status, const ProcessFacts& facts);

// Status thread: the newest `limit` call records as "recent_calls". A storage error leaves an
// empty list and "recent_calls_error" with the message (the rest of the snapshot still serves).
void add_recent_calls(nlohmann::json& status, storage::CallRecordRepository& records, size_t limit = kRecentCalls);

// The snapshot as sent: invalid UTF-8 from the network (user agents) is replaced, not thrown on.
std::string to_json_text(const nlohmann::json& status);

}  // namespace b2bua::status
