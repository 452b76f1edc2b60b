// The few STUN messages that measure a NAT's mapping lifetime: a Binding Request, optionally
// with RESPONSE-PORT (RFC 5780 7.5), and what its success response tells (XOR-MAPPED-ADDRESS,
// RFC 8489 14.2; OTHER-ADDRESS, RFC 5780 7.4). No authentication, no FINGERPRINT: a Binding
// Request needs neither (RFC 8489 9), and a bare message is what every server answers.
//
// Pure functions: any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "b2bua/trunk/host_port.h"

namespace b2bua::trunk {

using StunTransactionId = std::array<uint8_t, 12>;

// A fresh random transaction id (RFC 8489 6: 96 bits, uniformly random).
StunTransactionId new_stun_transaction();

// A Binding Request. With `response_port`, a server that implements RFC 5780 sends the answer
// to that port at the request's source address instead of to its source port.
std::vector<uint8_t> stun_binding_request(const StunTransactionId& id, std::optional<uint16_t> response_port = {});

struct StunResponse {
  StunTransactionId id{};
  bool success = false;                 // Binding success response (else an error response)
  int error_code = 0;                   // ERROR-CODE of an error response
  std::optional<HostPort> mapped;       // XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS
  std::optional<HostPort> other;        // OTHER-ADDRESS: the server implements RFC 5780
};

// A Binding response, or nullopt for anything else (not STUN, a request, truncated).
std::optional<StunResponse> parse_stun_response(const uint8_t* data, size_t size);

}  // namespace b2bua::trunk
