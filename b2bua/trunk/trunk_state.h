// What the status page and other features may read about one trunk, and the names of its
// states as they appear in logs and status output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace b2bua::trunk {

enum class TrunkState {
  disabled,     // enabled: false in the config
  unregistered, // register: false (a trunk that authenticates us by source address)
  registering,  // a REGISTER is on its way (first one, re-registration, failover)
  registered,   // the provider granted a binding that has not expired
  auth_failed,  // 401/407 with our credentials, 403 or 404: retried slowly
  backoff,      // timeouts, 5xx, 503 Retry-After, DNS failure: retried with growing delays
};

const char* state_name(TrunkState state);

// What to do about a router's SIP ALG rewriting our messages: said in the log when one is
// detected and in the status's health findings.
inline constexpr const char* kAlgRemedy =
    "switch off the SIP ALG (SIP helper) of the router, or set wan.port to another port such as 5160 that ALGs do "
    "not inspect";

struct TrunkSnapshot {
  std::string name;
  TrunkState state = TrunkState::disabled;
  int64_t registered_until = 0;       // unix seconds, 0 when not registered
  std::string server;                 // "ip:port" the registration goes to
  std::string public_address;         // "ip:port" configured or learned, empty if unknown
  std::string contact;                // the Contact URI we register
  int last_status = 0;                // last final response to REGISTER
  std::string last_phrase;
  std::optional<unsigned> keepalive_rtt_ms;  // last keep-alive round trip
  bool alg_detected = false;          // a router's SIP ALG is rewriting our messages
  unsigned keepalive_interval_s = 0;  // the interval in use (0: keep-alives off)
  // keepalive.interval "auto": "measuring", "measured" or "unavailable" (empty: a fixed interval).
  std::string nat_lifetime_state;
  std::optional<unsigned> nat_lifetime_s;  // the NAT's measured UDP mapping lifetime
  bool nat_lifetime_at_least = false;      // the mapping outlived every wait tried
  std::string nat_lifetime_reason;         // why there is no measurement
};

}  // namespace b2bua::trunk
