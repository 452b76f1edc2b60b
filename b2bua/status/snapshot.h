// The status snapshot: one JSON document that GET /status returns, GET /metrics and the status
// page are rendered from, and `b2bua status` prints. Built on request (see status_server.h):
// the SIP thread fills the configured view and every feature's live part, the status thread
// adds process facts and the last call records. Every key below is optional for a reader: a
// part is present only once the code that knows it exists; readers show what is there.
//
// Top-level schema (features: fill your part in Feature::describe, on the SIP thread; the
// configured view is merged in afterwards and never overwrites a key a feature has set):
//
//   "version":       "0.1.0"                      status thread
//   "pid":           1234                         status thread
//   "started_at":    unix seconds                 status thread
//   "uptime_s":      seconds                      status thread
//   "generated_at":  unix milliseconds            status thread
//   "trunks": [                                   trunk feature, one per trunk; the configured
//     { "name", "state": "registered" |           view adds "enabled", "registrar", "username",
//       "registering" | "auth_failed" |           "transport", "register", "keepalive" and
//       "backoff" | "disabled" | "unregistered",  "numbers" to the entry with the same name
//       "registered_until": unix s, "server", "public_address": "ip:port", "contact",
//       "last_status": 200, "last_phrase": "OK", "keepalive_rtt_ms": 12.5 | null,
//       "keepalive_answered_at": unix s, "alg_detected": false, "keepalive_interval_s": 20 (0: off),
//       "servers": ["ip:port", ...] in the order tried, "dns": "SRV _sip._udp.x: a:5060; a: 192.0.2.1",
//       "attempts": [ { "at", "server", "result": "200 OK" | "no answer (408 Request Timeout)" } ],
//       "last_failure": { "at", "server", "request", "answered", "response" | "reason",
//                         "retry_after", "warning", "challenge": { "header", "algorithm", "realm" },
//                         "after_credentials" },       trunk/failed_exchange.h; never a nonce
//       keepalive.interval "auto" only (trunk/nat_lifetime.h):
//       "nat_lifetime_state": "measuring" | "measured" | "unavailable",
//       "nat_lifetime_s": 58 | null, "nat_lifetime_at_least": false (outlived 150 s),
//       "nat_lifetime_reason": "..." (why unavailable) }
//   ],
//   "wan_requests_rejected": n                    trunk feature: WAN requests from no trunk
//   "extensions": [                               registrar, one per extension; the configured
//     { "number", "bindings": [                   view adds "name", "outbound", "max_calls",
//         { "contact", "source": "ip:port",       "allow" (destination classes)
//           "transport", "user_agent",
//           "expires_at": unix s, "q", "answering_options": bool,      false: the last
//           "updated_at": unix s } ],             qualify OPTIONS went unanswered; still rung
//       "last_register_failure": { "at", "source": "ip:port", "user",   registrar/failure_log.h
//           "reason": "wrong_password" | "outside_lan" | "blocked" | "locked" | "other_extension",
//           "method" },
//       "limits": { "blocked": bool,              calls feature: calls out through trunks;
//                   "blocked_by": "calls_per_hour" | "concurrent_external",  while blocked;
//                   "blocked_until": unix s | null (until a reload),         hits: times each
//                   "calls_last_hour": n,                                    limit was crossed
//                   "hits": { "calls_per_hour": n, "concurrent_external": n } } }  since start
//   ],
//   "registrar": { "auth_failures_total", "blocks_total", "blocked_now", "bindings",
//                  "locks_total", "locked_now",    password guard (registrar/auth_guard.h):
//                  "locked_extensions": [          extensions whose new logins are refused
//                    { "ext", "since": unix s, "until": unix s, "sources", "failures" } ],
//                  "unknown_user_failures": [ same as last_register_failure ] }  names that are
//                                                  no extension, the last few
//   "calls": [ { "id", "direction", "extension", "trunk", "remote_number",  calls feature;
//                "state": "ringing" | "answered", "duration_s",             absent: not known,
//                "relay_ports": [ { "a", "b" } ] } ]                        []: none
//   "call_totals": { "active", "by_final_code": { "200": 12, "486": 1 },    since start;
//                    "blocked_by_reason": { "global_number": 2 } }          calls/block_list.h
//   "relay": { "sessions": n,                                               media plane
//              "packets": { "lan_to_wan", "wan_to_lan",                     (add_relay_totals);
//                           "lan_to_lan", "wan_to_wan" },                   sessions open now,
//              "bytes":   { same keys as "packets" },                       the rest since start;
//              "dropped": { "wrong_source", "malformed",                    a direction names the
//                           "no_destination", "send_failed" },              networks in and out
//              "pool": { "capacity", "in_use", "allocation_failures",      port pairs; failures and
//                        "taken_elsewhere", "last_failure",                ports another program
//                        "last_failure_at", "probed", "busy": [port] } }   held since start; a
//                                                                           sample of free pairs
//                                                                           probed now
//   "recent_calls": [ { "id", "call_id", "direction", "extension", "trunk",   status thread,
//                       "remote_number", "start_ms", "answer_ms", "end_ms",    from storage,
//                       "final_code", "hangup_by", "notes", "media": {..} } ] newest first
//   "health": [ { "id": "trunk.sipgate.registration",                      status thread, last,
//                 "verdict": "ok" | "warning" | "problem",                  from all of the above
//                 "what", "evidence", "action" } ]                          and the machine
//                                                                           (health.h)
//
// Features that write a whole list (status["trunks"] = [...]) are fine; status::entry() is the
// way to add to an entry that may already exist.
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
namespace b2bua::media {
struct RelayTotals;
}

namespace b2bua::status {

inline constexpr size_t kRecentCalls = 50;

// SIP thread, after the features: adds what the config says about each trunk and extension
// (no secrets) to their entries, creating entries the features did not report.
void add_configured_view(nlohmann::json& status, const config::Config& config);

// The object in status[list] whose "name" (trunks) or "number" (extensions) equals `id`;
// appended (with only that key) when there is none, so a feature never loses its data.
nlohmann::json& entry(nlohmann::json& status, const char* list, const std::string& id);

// Any thread: the relay's totals (MediaPlane::totals()) as "relay"; every key is always there,
// so a counter that stays at 0 is a reported 0 and not an unknown.
void add_relay_totals(nlohmann::json& status, const media::RelayTotals& totals);

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
