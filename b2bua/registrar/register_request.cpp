#include "b2bua/registrar/register_request.h"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace b2bua::registrar {
namespace {

ParsedRegister error(int status, const char* phrase) {
  ParsedRegister p;
  p.status = status;
  p.phrase = phrase;
  return p;
}

bool parse_delta(const char* text, long& out) {
  if (!text || !*text) return false;
  char* end = nullptr;
  out = std::strtol(text, &end, 10);
  return end && *end == '\0' && out >= 0;
}

std::string unquote(const char* v) {
  std::string s(v ? v : "");
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

ParsedRegister parse_register(const sip_t* sip, const config::Registrar& limits, const std::string& aor) {
  if (!sip->sip_call_id || !sip->sip_cseq) return error(400, "Missing Call-ID or CSeq");
  ParsedRegister p;
  RegisterUpdate& u = p.update;
  u.aor = aor;
  u.call_id = sip->sip_call_id->i_id;
  u.cseq = sip->sip_cseq->cs_seq;
  if (sip->sip_user_agent && sip->sip_user_agent->g_string) u.user_agent = sip->sip_user_agent->g_string;

  long header_expires = -1;
  if (sip->sip_expires) header_expires = static_cast<long>(sip->sip_expires->ex_delta);

  for (const sip_contact_t* m = sip->sip_contact; m; m = m->m_next) {
    if (m->m_url->url_type == url_any) {
      if (m != sip->sip_contact || m->m_next || header_expires != 0) return error(400, "Invalid Wildcard Contact");
      u.wildcard = true;
      return p;
    }
    if (m->m_url->url_type != url_sip && m->m_url->url_type != url_sips) return error(400, "Unsupported Contact URI");
    long expires = header_expires >= 0 ? header_expires : limits.default_expires;
    if (m->m_expires && !parse_delta(m->m_expires, expires)) return error(400, "Invalid Contact expires");
    if (expires > 0 && expires < limits.min_expires) return error(423, "Interval Too Brief");
    expires = std::min<long>(expires, limits.max_expires);

    std::array<char, 512> buf{};
    issize_t len = url_e(buf.data(), static_cast<isize_t>(buf.size()), m->m_url);
    if (len <= 0 || static_cast<size_t>(len) >= buf.size()) return error(400, "Contact URI Too Long");

    ContactUpdate c;
    c.uri.assign(buf.data(), static_cast<size_t>(len));
    c.expires = static_cast<int>(expires);
    if (m->m_q) {
      char* end = nullptr;
      double q = std::strtod(m->m_q, &end);
      if (!end || *end != '\0' || q < 0.0 || q > 1.0) return error(400, "Invalid Contact q-value");
      c.q = q;
    }
    c.instance = unquote(msg_params_find(m->m_params, "+sip.instance="));
    u.contacts.push_back(std::move(c));
  }
  return p;
}

}  // namespace b2bua::registrar
