#include "b2bua/sip/sofia_log.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "b2bua/common/log.h"
#include "b2bua/sip/sofia.h"

extern "C" {
extern su_log_t tport_log[];
extern su_log_t nta_log[];
extern su_log_t nua_log[];
}

namespace b2bua::sip {
namespace {

// Errors and notable events of tport are at levels 1-3; more is a message dump.
constexpr unsigned kTportLevel = 3;

std::string trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t-"));
  s.erase(s.find_last_not_of(" \t\r\n") + 1);
  return s;
}

// "tls_connect(0x7f..): text" -> "text": the pointer helps nobody reading our log.
std::string without_prefix(const std::string& s) {
  size_t close = s.find("): ");
  return close == std::string::npos ? s : s.substr(close + 3);
}

std::string after(const std::string& s, const char* key) {
  size_t at = s.find(key);
  return at == std::string::npos ? "" : trim(s.substr(at + std::string(key).size()));
}

}  // namespace

SofiaLog::SofiaLog() {
  su_log_redirect(tport_log, &SofiaLog::write, &tport_);
  su_log_set_level(tport_log, kTportLevel);
  // nta and nua keep their own levels (errors by default, more with NTA_DEBUG / NUA_DEBUG).
  su_log_redirect(nta_log, &SofiaLog::write, &nta_);
  su_log_redirect(nua_log, &SofiaLog::write, &nua_);
}

SofiaLog::~SofiaLog() {
  su_log_redirect(nua_log, nullptr, nullptr);
  su_log_redirect(nta_log, nullptr, nullptr);
  su_log_redirect(tport_log, nullptr, nullptr);
}

void SofiaLog::write(void* stream, const char* fmt, va_list ap) {
  auto* source = static_cast<Source*>(stream);
  va_list copy;
  va_copy(copy, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  if (n <= 0) return;
  std::vector<char> buf(static_cast<size_t>(n) + 1);
  std::vsnprintf(buf.data(), buf.size(), fmt, ap);
  source->pending.append(buf.data(), static_cast<size_t>(n));
  // One sofia message may arrive in pieces, or several in one: log whole lines.
  for (size_t nl; (nl = source->pending.find('\n')) != std::string::npos;) {
    std::string one = source->pending.substr(0, nl);
    source->pending.erase(0, nl + 1);
    if (trim(one).empty()) continue;
    if (source == &source->owner->tport_) {
      source->owner->transport_line(one);
    } else {
      source->owner->stack_line(source->module, one);
    }
  }
}

void SofiaLog::stack_line(const std::string& module, const std::string& raw) {
  std::string text = trim(raw);
  // "nta: bind(127.0.0.1:5060;transport=*): Address already in use": why an agent did not start.
  if (text.find("bind(") != std::string::npos) {
    B2BUA_LOG(error, "sip", "bind_failed", {{"module", module}, {"detail", text}});
    return;
  }
  B2BUA_LOG(debug, "sip", "stack", {{"module", module}, {"detail", text}});
}

void SofiaLog::transport_line(const std::string& raw) {
  std::string text = trim(raw);
  if (quiet_) {
    B2BUA_LOG(debug, "sip", "transport", {{"detail", text}});
    return;
  }
  // A failed verification comes as four lines: depth, issuer, subject, error.
  if (text.rfind("Error with certificate at depth:", 0) == 0) {
    cert_depth_ = std::atoi(after(text, "depth:").c_str());
    cert_subject_.clear();
    cert_issuer_.clear();
    return;
  }
  if (cert_depth_ >= 0 && text.rfind("issuer", 0) == 0) {
    cert_issuer_ = after(text, "=");
    return;
  }
  if (cert_depth_ >= 0 && text.rfind("subject", 0) == 0) {
    cert_subject_ = after(text, "=");
    return;
  }
  if (cert_depth_ >= 0 && text.rfind("err ", 0) == 0) {
    std::string reason = after(text, ":");
    B2BUA_LOG(error, "sip", "tls_certificate_error",
              {{"error", reason}, {"depth", cert_depth_}, {"subject", cert_subject_}, {"issuer", cert_issuer_}});
    cert_depth_ = -1;
    tls_failure("certificate not trusted: " + reason + " (subject " + cert_subject_ + ")");
    return;
  }
  std::string detail = without_prefix(text);
  if (text.find("Peer Subject Mismatch") != std::string::npos) {
    // RFC 5922 7.2: the certificate must name the host we asked for.
    std::string host = after(detail, "Mismatch");
    if (host.size() >= 2 && host.front() == '(') host = host.substr(1, host.size() - 2);
    B2BUA_LOG(error, "sip", "tls_certificate_error",
              {{"error", "the certificate does not name the server"}, {"expected", host}});
    tls_failure("certificate does not name " + host);
    return;
  }
  if (text.find("TLS setup failed") != std::string::npos || text.find("tls_connect") != std::string::npos) {
    B2BUA_LOG(error, "sip", "tls_handshake_failed", {{"detail", detail}});
    tls_failure("TLS handshake failed: " + detail);
    return;
  }
  if (text.find("PONG timeout") != std::string::npos) {
    B2BUA_LOG(warn, "sip", "connection_closed", {{"reason", "no pong to the CRLF ping"}, {"detail", detail}});
    return;
  }
  B2BUA_LOG(debug, "sip", "transport", {{"detail", detail}});
}

void SofiaLog::tls_failure(std::string detail) {
  last_tls_failure_ = std::move(detail);
  last_tls_failure_at_ = std::chrono::steady_clock::now();
  if (listener_) listener_(last_tls_failure_);
}

std::optional<std::string> SofiaLog::recent_tls_failure(std::chrono::seconds within) const {
  if (last_tls_failure_.empty() || std::chrono::steady_clock::now() - last_tls_failure_at_ > within) {
    return std::nullopt;
  }
  return last_tls_failure_;
}

}  // namespace b2bua::sip
