// The last exchange with a trunk's provider that went wrong, kept so `b2bua doctor` can show
// what the provider actually said: the request line, the status line, and the headers that
// explain a refusal -- Warning (RFC 3261 20.43), Retry-After (20.33) and the scheme, algorithm
// and realm of a WWW-/Proxy-Authenticate challenge. Never the nonce, opaque, our credentials
// or the digest answer: the exchange is served as is by GET /status.
//
// Threads: built on the SIP thread from the response in hand; the structs are trunk_state.h's.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "b2bua/sip/sofia.h"
#include "b2bua/trunk/digest_client.h"
#include "b2bua/trunk/trunk_state.h"

namespace b2bua::trunk {

// The challenge as it may be shown; nullopt when there is none.
std::optional<ChallengeSummary> summarize(const std::vector<DigestChallenge>& challenges);

// `sip`: the provider's response, null when there is none (timeout, DNS, transport failure).
// `answered_challenge`: the challenge we answered in this attempt, if any.
FailedExchange failed_exchange(const std::string& request_line, const std::string& server, int status,
                               const std::string& phrase, const sip_t* sip,
                               const std::optional<ChallengeSummary>& answered_challenge, int64_t now_s);

// As in the status snapshot's trunks[].last_failure: { "at", "server", "request", "answered",
// "response" | "reason", "retry_after", "warning", "challenge": { "header", "algorithm",
// "realm" }, "after_credentials" } (keys without a value left out).
nlohmann::json to_json(const FailedExchange& f);

}  // namespace b2bua::trunk
