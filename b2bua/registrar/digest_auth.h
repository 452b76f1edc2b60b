// Server side of HTTP digest authentication for REGISTER (RFC 3261 section 22, RFC 2617 with
// qop=auth, RFC 8760 for SHA-256).
//
// Our own verifier rather than sofia's auth_module: that one has no nonce-count replay check,
// no SHA-256, and a constant default secret. Here nonces are stateless and signed
// (issue time + counter + HMAC-SHA256 with a random per-process secret), so a restart simply
// makes phones re-authenticate; the only state is the highest nonce-count seen per nonce in a
// bounded table (nonce_counts.h), which is what replay protection needs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "b2bua/config/config.h"
#include "b2bua/registrar/nonce_counts.h"
#include "b2bua/sip/digest_hash.h"
#include "b2bua/sip/sha256.h"
#include "b2bua/sip/sofia.h"

namespace b2bua::registrar {

// The parameters of one "Authorization: Digest ..." header, unquoted.
struct DigestResponse {
  std::string username, realm, nonce, uri, response, algorithm, cnonce, qop, nc;
};

// What we know of the user: a password, or only MD5(user:realm:password).
struct DigestSecret {
  std::optional<std::string> password;
  std::optional<std::string> ha1_md5;
};

enum class DigestVerdict {
  ok,          // the credentials are right and the nonce fresh and not replayed
  challenge,   // no usable credentials for our realm (or a nonce we never signed): 401
  stale,       // right credentials but the nonce expired or its count was replayed: 401 stale=true
  failed,      // wrong password, unknown user, or a malformed response: the same answer for all
};

struct DigestSettings {
  std::string realm;
  int nonce_lifetime_s = 300;
  bool offer_sha256 = false;  // challenge with SHA-256 first, MD5 second (RFC 8760 section 3)
  size_t max_tracked_nonces = 65536;
};

// The digest settings of the LAN side, for REGISTER and INVITE alike: one realm, one nonce
// lifetime, SHA-256 offered when registrar.sha256 is on.
DigestSettings digest_settings(const config::Config& config);

class DigestAuth {
 public:
  // `secret` signs nonces; empty picks 32 random bytes (the normal case; tests pass one).
  explicit DigestAuth(DigestSettings settings, std::string secret = {});

  void update(const DigestSettings& settings);
  const DigestSettings& settings() const { return settings_; }

  // WWW-Authenticate values for a 401, most preferred first.
  std::vector<std::string> challenges(int64_t now, bool stale);

  // `secret` is null for an unknown user: the answer is then `failed`, after the same work.
  DigestVerdict verify(const DigestResponse& r, std::string_view method, const DigestSecret* secret, int64_t now);

  std::string make_nonce(int64_t now);

 private:
  enum class NonceState { valid, expired, forged };
  NonceState check_nonce(const std::string& nonce, int64_t now, int64_t& issued) const;
  std::string sign(std::string_view payload) const;
  // True if `nc` is higher than every count seen for `nonce` (and records it). `nonce` has
  // passed check_nonce().
  bool accept_count(const std::string& nonce, int64_t issued, uint32_t nc, int64_t now);

  DigestSettings settings_;
  std::string secret_;
  sip::HmacSha256 signer_;  // keyed with secret_
  uint64_t counter_ = 0;
  NonceCounts counts_;
};

// The digest response for our realm among the request's Authorization headers, if any.
std::optional<DigestResponse> find_digest_response(const sip_authorization_t* headers, const std::string& realm);

// RFC 2617 section 3.2.2.5, RFC 3261 section 22.4: the digest `uri` must name the resource of
// the Request-URI, or an answer computed for one request (an INVITE to one number) could be
// replayed on another (a premium number) while its nonce lives. Compared as RFC 3261 19.1.4
// compares URIs: scheme, user and password exactly (after %-unescaping), host case-insensitively
// (IP addresses by value), an absent port as the scheme's default (5060, 5061 for sips), a
// parameter present in both with the same value in any order and any case, user, ttl, method and
// maddr present in both or neither, URI headers alike. False for a `digest_uri` that does not
// parse and for a missing Request-URI.
bool same_resource(std::string_view digest_uri, const url_t* request_uri);

// Reason phrase of the 400 that answers a digest `uri` naming another resource.
inline constexpr const char* kDigestUriMismatchPhrase = "Authorization URI Mismatch";

// The check REGISTER and INVITE make alike, before the password: true when `r.uri` names the
// Request-URI. Otherwise one log line event=digest_uri_mismatch (who, from where, which method;
// none of the digest's values) and false: the caller answers 400 kDigestUriMismatchPhrase, the
// same for a known and an unknown user, and counts an authentication failure for the password
// guard as for a wrong password, so the check cannot be used to probe.
bool digest_uri_matches(const DigestResponse& r, const url_t* request_uri, std::string_view source,
                        std::string_view method);

// RFC 2617 section 3.2.2.1 with qop=auth (RFC 8760 with SHA-256): the request-digest from HA1.
std::string digest_response(bool sha256, const std::string& ha1, const DigestResponse& r, std::string_view method);

using sip::md5_hex;
using sip::sha256_hex;

}  // namespace b2bua::registrar
