#include "b2bua/trunk/digest_client.h"


#include <cstdio>
#include <random>
#include <strings.h>

namespace b2bua::trunk {

using sip::unquote;

namespace {

bool is_md5(const std::string& algorithm) {
  return algorithm.empty() || strcasecmp(algorithm.c_str(), "MD5") == 0;
}

bool is_sha256(const std::string& algorithm) { return strcasecmp(algorithm.c_str(), "SHA-256") == 0; }

bool offers_auth_qop(const std::string& qop) {
  size_t start = 0;
  while (start <= qop.size()) {
    size_t end = qop.find(',', start);
    if (end == std::string::npos) end = qop.size();
    std::string token = qop.substr(start, end - start);
    token.erase(0, token.find_first_not_of(" \t"));
    token.erase(token.find_last_not_of(" \t") + 1);
    if (strcasecmp(token.c_str(), "auth") == 0) return true;
    start = end + 1;
  }
  return false;
}

void collect(const msg_auth_t* au, bool proxy, std::vector<DigestChallenge>& out) {
  for (; au; au = au->au_next) {
    if (!au->au_scheme || strcasecmp(au->au_scheme, "Digest") != 0) continue;
    out.push_back(parse_challenge(au->au_params, proxy));
  }
}

}  // namespace

DigestChallenge parse_challenge(const char* const* params, bool proxy) {
  DigestChallenge c;
  c.proxy = proxy;
  for (; params && *params; ++params) {
    std::string p = *params;
    size_t eq = p.find('=');
    std::string name = p.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : unquote(p.substr(eq + 1));
    if (strcasecmp(name.c_str(), "realm") == 0) c.realm = value;
    else if (strcasecmp(name.c_str(), "nonce") == 0) c.nonce = value;
    else if (strcasecmp(name.c_str(), "opaque") == 0) c.opaque = value;
    else if (strcasecmp(name.c_str(), "algorithm") == 0) c.algorithm = value;
    else if (strcasecmp(name.c_str(), "qop") == 0) c.qop = value;
    else if (strcasecmp(name.c_str(), "stale") == 0) c.stale = strcasecmp(value.c_str(), "true") == 0;
  }
  return c;
}

std::vector<DigestChallenge> digest_challenges(const sip_t* sip) {
  std::vector<DigestChallenge> out;
  if (!sip) return out;
  collect(sip->sip_www_authenticate, false, out);
  collect(sip->sip_proxy_authenticate, true, out);
  return out;
}

bool sofia_can_answer(const std::vector<DigestChallenge>& challenges) {
  if (challenges.empty()) return false;
  for (const auto& c : challenges) {
    if (!is_md5(c.algorithm)) return false;
    if (c.realm != challenges.front().realm) return false;
  }
  return true;
}

std::optional<DigestChallenge> choose_challenge(const std::vector<DigestChallenge>& challenges) {
  for (const auto& c : challenges) {
    if (is_md5(c.algorithm)) return c;
  }
  for (const auto& c : challenges) {
    if (is_sha256(c.algorithm)) return c;
  }
  return std::nullopt;
}

std::string new_cnonce() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(gen()));
  return buf;
}

std::optional<ChallengeAnswer> answer_challenges(const std::vector<DigestChallenge>& challenges,
                                                 const std::string& user, const std::string& password,
                                                 const std::string& method, const std::string& uri) {
  ChallengeAnswer a;
  if (sofia_can_answer(challenges)) {
    a.sofia_auth = "Digest:\"" + challenges.front().realm + "\":" + user + ":" + password;
    return a;
  }
  auto chosen = choose_challenge(challenges);
  if (!chosen) return std::nullopt;
  a.header = digest_authorization(*chosen, user, password, method, uri, 1, new_cnonce());
  a.proxy = chosen->proxy;
  a.algorithm = chosen->algorithm.empty() ? "MD5" : chosen->algorithm;
  return a;
}

std::string digest_authorization(const DigestChallenge& c, const std::string& user, const std::string& password,
                                 const std::string& method, const std::string& uri, unsigned nc,
                                 const std::string& cnonce) {
  // RFC 7616 3.4.1: the same construction, with the challenge's hash function.
  bool sha256 = is_sha256(c.algorithm);
  auto H = [sha256](const std::string& s) { return sha256 ? sip::sha256_hex(s) : md5_hex(s); };
  std::string ha1 = H(user + ":" + c.realm + ":" + password);
  std::string ha2 = H(method + ":" + uri);
  bool qop = offers_auth_qop(c.qop);
  char nc_hex[9];
  std::snprintf(nc_hex, sizeof nc_hex, "%08x", nc);
  std::string response = qop ? H(ha1 + ":" + c.nonce + ":" + nc_hex + ":" + cnonce + ":auth:" + ha2)
                             : H(ha1 + ":" + c.nonce + ":" + ha2);
  std::string h = "Digest username=\"" + user + "\", realm=\"" + c.realm + "\", nonce=\"" + c.nonce + "\", uri=\"" +
                  uri + "\", response=\"" + response + "\", algorithm=" + (sha256 ? "SHA-256" : "MD5");
  if (!c.opaque.empty()) h += ", opaque=\"" + c.opaque + "\"";
  if (qop) h += ", qop=auth, nc=" + std::string(nc_hex) + ", cnonce=\"" + cnonce + "\"";
  return h;
}

}  // namespace b2bua::trunk
