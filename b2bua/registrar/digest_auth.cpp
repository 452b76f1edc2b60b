#include "b2bua/registrar/digest_auth.h"


#include <sofia-sip/hostdomain.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>

#include "b2bua/common/log.h"
#include "b2bua/sip/sha256.h"

namespace b2bua::registrar {

using sip::to_hex;
using sip::unquote;

namespace {

constexpr size_t kTimeHex = 16, kCounterHex = 16, kMacHex = 32;
constexpr size_t kNonceHex = kTimeHex + kCounterHex + kMacHex;

std::string random_secret() {
  std::random_device device;  // /dev/urandom on Linux
  std::string s(32, '\0');
  for (auto& ch : s) ch = static_cast<char>(device() & 0xff);
  return s;
}

std::string hex64(uint64_t v) {
  std::array<uint8_t, 8> bytes{};
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
  return to_hex(bytes);
}

bool parse_hex64(std::string_view text, uint64_t& out) {
  if (text.size() != 16) return false;
  out = 0;
  for (char ch : text) {
    int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
    if (d < 0) return false;
    out = out << 4 | static_cast<uint64_t>(d);
  }
  return true;
}

// RFC 2617: nc is exactly 8 hex digits.
bool parse_nc(const std::string& text, uint32_t& out) {
  if (text.size() != 8) return false;
  out = 0;
  for (char ch : text) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    out = out << 4 | static_cast<uint32_t>(d);
  }
  return true;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string lowercase(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The port a SIP URI names, its scheme's default when absent or empty; -1 if not a number.
long port_of(const url_t& u) {
  const char* port = u.url_port && *u.url_port ? u.url_port : url_port_default(static_cast<url_type_e>(u.url_type));
  if (!port || !*port) return -1;
  long value = 0;
  for (const char* p = port; *p; ++p) {
    if (*p < '0' || *p > '9' || value > 65535) return -1;
    value = value * 10 + (*p - '0');
  }
  return value;
}

// name (lower case) -> value of a ';'-separated parameter list or a '&'-separated header list;
// the first of a repeated name counts. An absent value is the empty string.
std::map<std::string, std::string> split_params(const char* text, char separator) {
  std::map<std::string, std::string> out;
  std::string_view rest = text ? text : "";
  while (!rest.empty()) {
    size_t end = rest.find(separator);
    std::string_view item = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string name = lowercase(std::string(item.substr(0, eq)));
    std::string value = eq == std::string_view::npos ? std::string() : std::string(item.substr(eq + 1));
    out.emplace(std::move(name), std::move(value));
  }
  return out;
}

bool same_text(const char* a, const char* b) { return (!a && !b) || (a && b && std::strcmp(a, b) == 0); }

// RFC 3261 19.1.4 on uri-parameters: one present in both must match (case-insensitively);
// user, ttl, method and maddr must not be present in only one; any other present in only one
// is ignored.
bool same_params(const char* a_text, const char* b_text) {
  auto a = split_params(a_text, ';');
  auto b = split_params(b_text, ';');
  for (const char* strict : {"user", "ttl", "method", "maddr"}) {
    if (a.count(strict) != b.count(strict)) return false;
  }
  for (const auto& [name, value] : a) {
    auto other = b.find(name);
    if (other != b.end() && !iequals(value, other->second)) return false;
  }
  return true;
}

// RFC 3261 19.1.4: URI headers are never ignored; each present must be present in both and match.
bool same_headers(const char* a_text, const char* b_text) {
  auto a = split_params(a_text, '&');
  auto b = split_params(b_text, '&');
  return a == b;
}

}  // namespace

bool same_resource(std::string_view digest_uri, const url_t* request_uri) {
  if (!request_uri || digest_uri.empty()) return false;
  // url_d parses in place and unescapes what needs no escaping, as the request's own parse did.
  std::string copy(digest_uri);
  url_t parsed;
  if (url_d(&parsed, copy.data()) < 0) return false;
  const url_t& a = parsed;
  const url_t& b = *request_uri;
  if (a.url_type != b.url_type) return false;
  if (a.url_type != url_sip && a.url_type != url_sips) {
    // Not a SIP URI (tel:, or a scheme sofia does not know): every component must be the same.
    return a.url_type != url_invalid && url_cmp_all(&a, &b) == 0;
  }
  if (!a.url_host || !b.url_host || host_cmp(a.url_host, b.url_host) != 0) return false;
  long port = port_of(a);
  if (port < 0 || port != port_of(b)) return false;
  return same_text(a.url_user, b.url_user) && same_text(a.url_password, b.url_password) &&
         same_params(a.url_params, b.url_params) && same_headers(a.url_headers, b.url_headers);
}

bool digest_uri_matches(const DigestResponse& r, const url_t* request_uri, std::string_view source,
                        std::string_view method) {
  if (same_resource(r.uri, request_uri)) return true;
  B2BUA_LOG(info, "registrar", "digest_uri_mismatch", {{"source", source}, {"user", r.username}, {"method", method}});
  return false;
}

static std::string hash_hex(bool sha, std::string_view text) { return sha ? sha256_hex(text) : md5_hex(text); }

DigestAuth::DigestAuth(DigestSettings settings, std::string secret)
    : settings_(std::move(settings)),
      secret_(secret.empty() ? random_secret() : std::move(secret)),
      signer_(secret_) {
  std::random_device device;
  counter_ = uint64_t{device()} << 32 | device();  // nonces differ across restarts too
}

void DigestAuth::update(const DigestSettings& settings) { settings_ = settings; }

std::string DigestAuth::sign(std::string_view payload) const {
  return to_hex(signer_.sign(payload)).substr(0, kMacHex);
}

std::string DigestAuth::make_nonce(int64_t now) {
  std::string payload = hex64(static_cast<uint64_t>(now)) + hex64(++counter_);
  return payload + sign(payload);
}

DigestAuth::NonceState DigestAuth::check_nonce(const std::string& nonce, int64_t now, int64_t& issued) const {
  uint64_t t = 0;
  if (nonce.size() != kNonceHex || !parse_hex64(std::string_view(nonce).substr(0, kTimeHex), t)) {
    return NonceState::forged;
  }
  std::string_view payload = std::string_view(nonce).substr(0, kTimeHex + kCounterHex);
  if (!equal_constant_time(sign(payload), std::string_view(nonce).substr(kTimeHex + kCounterHex))) {
    return NonceState::forged;
  }
  issued = static_cast<int64_t>(t);
  if (issued > now + 5 || now - issued > settings_.nonce_lifetime_s) return NonceState::expired;
  return NonceState::valid;
}

std::vector<std::string> DigestAuth::challenges(int64_t now, bool stale) {
  std::string common = "realm=\"" + settings_.realm + "\", nonce=\"" + make_nonce(now) + "\", qop=\"auth\"" +
                       (stale ? ", stale=true" : "");
  std::vector<std::string> out;
  if (settings_.offer_sha256) out.push_back("Digest " + common + ", algorithm=SHA-256");
  out.push_back("Digest " + common + ", algorithm=MD5");
  return out;
}

bool DigestAuth::accept_count(const std::string& nonce_text, int64_t issued, uint32_t nc, int64_t now) {
  uint64_t counter = 0;
  if (!parse_hex64(std::string_view(nonce_text).substr(kTimeHex, kCounterHex), counter)) return false;
  return counts_.accept(counter, issued, nc, now, settings_.nonce_lifetime_s, settings_.max_tracked_nonces);
}

DigestVerdict DigestAuth::verify(const DigestResponse& r, std::string_view method, const DigestSecret* secret,
                                 int64_t now) {
  if (r.realm != settings_.realm) return DigestVerdict::challenge;
  int64_t issued = 0;
  NonceState nonce_state = check_nonce(r.nonce, now, issued);
  // A nonce we never signed (e.g. from before a restart) proves nothing either way.
  if (nonce_state == NonceState::forged) return DigestVerdict::challenge;

  bool sha = iequals(r.algorithm, "SHA-256");
  bool md5 = r.algorithm.empty() || iequals(r.algorithm, "MD5");
  uint32_t nc = 0;
  // qop=auth is mandatory here: without it there is no nonce-count and so no replay check.
  bool well_formed = (sha || md5) && iequals(r.qop, "auth") && parse_nc(r.nc, nc) && !r.cnonce.empty() &&
                     !r.uri.empty() && !r.response.empty();

  auto hash = [sha](std::string_view text) { return hash_hex(sha, text); };
  std::string ha1;
  if (secret && secret->password) {
    ha1 = hash(r.username + ":" + settings_.realm + ":" + *secret->password);
  } else if (secret && secret->ha1_md5 && md5) {
    ha1 = lowercase(*secret->ha1_md5);
  } else {
    // Unknown user, or SHA-256 asked of an HA1-only extension: do the same work, then fail.
    ha1 = hash(r.username + ":" + settings_.realm + ":" + secret_);
    secret = nullptr;
  }
  bool match = equal_constant_time(digest_response(sha, ha1, r, method), lowercase(r.response));
  if (!secret || !well_formed || !match) return DigestVerdict::failed;
  if (nonce_state == NonceState::expired) return DigestVerdict::stale;
  if (!accept_count(r.nonce, issued, nc, now)) return DigestVerdict::stale;
  return DigestVerdict::ok;
}

std::string digest_response(bool sha256, const std::string& ha1, const DigestResponse& r, std::string_view method) {
  auto hash = [sha256](std::string_view text) { return hash_hex(sha256, text); };
  std::string ha2 = hash(std::string(method) + ":" + r.uri);
  return hash(ha1 + ":" + r.nonce + ":" + r.nc + ":" + r.cnonce + ":" + r.qop + ":" + ha2);
}

std::optional<DigestResponse> find_digest_response(const sip_authorization_t* headers, const std::string& realm) {
  for (const sip_authorization_t* h = headers; h; h = h->au_next) {
    if (!h->au_scheme || !iequals(h->au_scheme, "Digest") || !h->au_params) continue;
    DigestResponse r;
    for (const msg_param_t* p = h->au_params; *p; ++p) {
      std::string_view param(*p);
      size_t eq = param.find('=');
      if (eq == std::string_view::npos) continue;
      std::string name = lowercase(std::string(param.substr(0, eq)));
      std::string value = unquote(param.substr(eq + 1));
      if (name == "username") r.username = value;
      else if (name == "realm") r.realm = value;
      else if (name == "nonce") r.nonce = value;
      else if (name == "uri") r.uri = value;
      else if (name == "response") r.response = value;
      else if (name == "algorithm") r.algorithm = value;
      else if (name == "cnonce") r.cnonce = value;
      else if (name == "qop") r.qop = value;
      else if (name == "nc") r.nc = value;
    }
    if (r.realm == realm) return r;
  }
  return std::nullopt;
}

DigestSettings digest_settings(const config::Config& config) {
  DigestSettings s;
  s.realm = config.lan.realm;
  s.nonce_lifetime_s = config.registrar.nonce_lifetime;
  s.offer_sha256 = config.registrar.sha256;
  return s;
}

}  // namespace b2bua::registrar
