// Snapshots and servers for the status unit tests.
#pragma once

#include <nlohmann/json.hpp>

namespace b2bua::status::test {

// A snapshot with every part the schema (snapshot.h) documents filled in, as features will.
inline nlohmann::json full_snapshot() {
  return nlohmann::json::parse(R"({
    "version": "1.2.3", "pid": 42, "started_at": 1700000000, "uptime_s": 3725, "generated_at": 1700003725000,
    "trunks": [
      {"name": "provider", "enabled": true, "registrar": "sip:sip.example.net", "username": "4930123456",
       "numbers": ["+4930123456"], "state": "registered", "registered_until": 1700004000,
       "public_address": "203.0.113.2:5060", "last_status": 200, "last_phrase": "OK",
       "keepalive_rtt_ms": 12.5, "alg_detected": false, "keepalive_interval_s": 11,
       "nat_lifetime_state": "measured", "nat_lifetime_s": 14, "nat_lifetime_at_least": false},
      {"name": "backup \"2\"", "enabled": true, "registrar": "sip:b.example.net", "username": "u", "transport": "tls",
       "state": "auth_failed", "last_status": 403},
      {"name": "off", "enabled": false, "registrar": "sip:c.example.net", "username": "x"}
    ],
    "extensions": [
      {"number": "10", "name": "Kitchen", "bindings": [
        {"contact": "sip:10@192.168.1.20:5060", "source": "192.168.1.20:5060", "transport": "udp",
         "user_agent": "Yealink SIP-T46U", "expires_at": 1700003900, "answering_options": true},
        {"contact": "sip:10@192.168.1.21:5062", "source": "192.168.1.21:5062", "transport": "tcp",
         "user_agent": "baresip\u001b[31m", "expires_at": 1700003800, "answering_options": false}]},
      {"number": "11", "name": "Office", "bindings": []}
    ],
    "registrar": {"auth_failures_total": 7, "blocks_total": 1, "blocked_now": 1, "locks_total": 1, "locked_now": 1,
                  "locked_extensions": [{"ext": "11", "since": 1700003600, "until": 1700004500, "sources": 4,
                                         "failures": 20}]},
    "calls": [
      {"id": "c1", "direction": "outbound", "extension": "10", "trunk": "provider", "remote_number": "+49301234567",
       "state": "answered", "duration_s": 125, "relay_ports": [{"a": 20000, "b": 20002}]}
    ],
    "wan_requests_rejected": 17,
    "call_totals": {"active": 1, "by_final_code": {"200": 12, "486": 3}},
    "relay": {"sessions": 1,
              "packets": {"lan_to_wan": 50000, "wan_to_lan": 49999, "lan_to_lan": 0, "wan_to_wan": 0},
              "bytes": {"lan_to_wan": 8600000, "wan_to_lan": 8599828, "lan_to_lan": 0, "wan_to_wan": 0},
              "dropped": {"wrong_source": 4, "malformed": 1, "no_destination": 12, "send_failed": 0}},
    "recent_calls": [
      {"id": 2, "direction": "inbound", "extension": "11", "trunk": "provider", "remote_number": "+4930999",
       "start_ms": 1700003000000, "answer_ms": 0, "end_ms": 1700003030000, "final_code": 487, "hangup_by": "caller"},
      {"id": 1, "direction": "outbound", "extension": "10", "trunk": "provider", "remote_number": "+4930888",
       "start_ms": 1700002000000, "answer_ms": 1700002005000, "end_ms": 1700002125000, "final_code": 200,
       "hangup_by": "callee", "media": {"a": {"packets": 6000, "lost": 3, "jitter_ms": 2.25},
                                        "b": {"packets": 5990, "lost": 0, "jitter_ms": 0.5}}}
    ]
  })");
}

}  // namespace b2bua::status::test
