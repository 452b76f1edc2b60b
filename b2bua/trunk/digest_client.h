// Digest authentication towards a provider, for the case sofia 1.12 cannot answer itself.
//
// sofia's auth client fails when one 401/407 carries several Digest challenges for one realm
// (RFC 8760 providers send SHA-256 and MD5): nua_authenticate() then reports 904 "No matching
// challenge" (SHA-256 first) or 202 "No operation to restart" (MD5 first), and sofia 1.12
// knows no SHA-256 at all. We then pick a challenge (MD5 when offered, which every provider
// verifies alike; else SHA-256) and compute the Authorization ourselves (RFC 2617 / RFC 7616
// with qop=auth); provider_auth.h re-sends the request with it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "b2bua/sip/digest_hash.h"
#include "b2bua/sip/sofia.h"

namespace b2bua::trunk {

struct DigestChallenge {
  std::string realm;      // unquoted
  std::string nonce;
  std::string opaque;
  std::string algorithm;  // as given, "" when absent (MD5 by RFC 2617)
  std::string qop;        // the qop-options list, "" when absent
  bool stale = false;
  bool proxy = false;     // from Proxy-Authenticate (407)
};

// Every Digest challenge of a 401/407 response, in header order.
std::vector<DigestChallenge> digest_challenges(const sip_t* sip);

// Parses one challenge from sofia's parameter list ("realm=\"x\"", "nonce=...", ...).
DigestChallenge parse_challenge(const char* const* params, bool proxy);

// True when every challenge is plain MD5 and all share one realm: sofia's own client copes.
bool sofia_can_answer(const std::vector<DigestChallenge>& challenges);

// The challenge we answer: the first MD5 one (with or without an explicit algorithm), else
// the first SHA-256 one; nullopt when only algorithms we do not know are offered.
std::optional<DigestChallenge> choose_challenge(const std::vector<DigestChallenge>& challenges);

// The value of an Authorization / Proxy-Authorization header answering `c` with its algorithm
// (MD5 or SHA-256; qop=auth when offered, else RFC 2069 style). `nc` counts uses of this
// nonce from 1.
std::string digest_authorization(const DigestChallenge& c, const std::string& user, const std::string& password,
                                 const std::string& method, const std::string& uri, unsigned nc,
                                 const std::string& cnonce);

// A fresh client nonce (16 hex digits) for digest_authorization().
std::string new_cnonce();

// How to answer a provider's 401/407, for REGISTER and INVITE alike: by sofia's own client
// when it copes (`sofia_auth` for NUTAG_AUTH, which keeps the nonce-count for refreshes), else
// with our own header (`header`, an Authorization or, with `proxy`, a Proxy-Authorization).
struct ChallengeAnswer {
  std::string sofia_auth;
  std::string header;
  bool proxy = false;
  std::string algorithm;  // of our own answer, for the log
};
// nullopt when no challenge can be answered (only algorithms we do not know).
std::optional<ChallengeAnswer> answer_challenges(const std::vector<DigestChallenge>& challenges,
                                                 const std::string& user, const std::string& password,
                                                 const std::string& method, const std::string& uri);

using sip::md5_hex;

}  // namespace b2bua::trunk
