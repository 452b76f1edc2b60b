// What the status page and other features may read about one trunk, and the names of its
// states as they appear in logs and status output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

// A challenge as it may be shown: "Digest", its algorithm ("" when not named, MD5 by RFC 2617)
// and realm.
struct ChallengeSummary {
  std::string header;     // "WWW-Authenticate" | "Proxy-Authenticate"
  std::string algorithm;
  std::string realm;
  bool operator==(const ChallengeSummary&) const = default;
};

struct FailedExchange {
  int64_t at = 0;                 // unix seconds
  std::string server;             // "ip:port" it went to, "" when no server was known (DNS)
  std::string request;            // "REGISTER sip:provider.example SIP/2.0"
  bool answered = false;          // a response came from the provider (not a timeout of ours)
  std::string response;           // "SIP/2.0 503 Service Unavailable"; "" when not answered
  std::string reason;             // not answered: why ("Request Timeout", "DNS: ...", "TLS ...")
  std::optional<unsigned> retry_after;  // seconds
  std::string warning;            // the Warning header's value(s)
  std::optional<ChallengeSummary> challenge;  // of this response, else of the one answered
  bool after_credentials = false; // refused after we had answered a challenge
};

// One REGISTER sent to one server and how it ended, newest last (kAttemptsKept of them).
struct Attempt {
  int64_t at = 0;        // unix seconds
  std::string server;    // "ip:port"
  std::string result;    // "200 OK", "503 Service Unavailable", "no answer (408 Request Timeout)"
};
inline constexpr size_t kAttemptsKept = 6;

struct TrunkSnapshot {
  std::string name;
  TrunkState state = TrunkState::disabled;
  int64_t registered_until = 0;       // unix seconds, 0 when not registered
  std::string server;                 // "ip:port" the registration goes to
  std::string public_address;         // "ip:port" configured or learned, empty if unknown
  std::string contact;                // the Contact URI we register
  int last_status = 0;                // last final response to REGISTER
  std::string last_phrase;
  std::optional<double> keepalive_rtt_ms;    // last keep-alive OPTIONS round trip (0.1 ms steps)
  int64_t keepalive_answered_at = 0;         // unix seconds of that answer, 0: none yet
  std::vector<std::string> servers;          // the servers to try, in order (server_list.h)
  std::string dns;                           // the DNS answers that gave them (server_resolver.h)
  std::vector<Attempt> attempts;             // the last REGISTERs, oldest first
  std::optional<FailedExchange> last_failure;  // the last REGISTER that failed
  bool alg_detected = false;          // a router's SIP ALG is rewriting our messages
  unsigned keepalive_interval_s = 0;  // the interval in use (0: keep-alives off)
  // keepalive.interval "auto": "measuring", "measured" or "unavailable" (empty: a fixed interval).
  std::string nat_lifetime_state;
  std::optional<unsigned> nat_lifetime_s;  // the NAT's measured UDP mapping lifetime
  bool nat_lifetime_at_least = false;      // the mapping outlived every wait tried
  std::string nat_lifetime_reason;         // why there is no measurement
};

}  // namespace b2bua::trunk
