// sofia's transport layer (tport) reports TLS certificate failures, failed handshakes and
// connections closed for a missing CRLF pong only through its own log, as free text on stderr.
// TransportLog routes that log into ours: one key=value line per event, at a level an admin
// can filter (certificate and TLS failures are errors, the rest debug), and it remembers the
// last TLS failure so the trunk whose registration then fails can name the cause.
//
// tport_log is one object of the sofia library, so one TransportLog per process at a time;
// it lives on the SIP thread, where every tport message is written.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace b2bua::sip {

class TransportLog {
 public:
  TransportLog();
  ~TransportLog();
  TransportLog(const TransportLog&) = delete;
  TransportLog& operator=(const TransportLog&) = delete;

  // While set, every message is debug: creating a TLS transport without a client certificate
  // makes sofia complain about agent.pem, which is no fault of the admin's.
  void set_quiet(bool quiet) { quiet_ = quiet; }

  // Called with each TLS failure as it happens (one listener; null to remove it): the stack
  // itself only notices when the request's transaction times out.
  void on_tls_failure(std::function<void(const std::string&)> listener) { listener_ = std::move(listener); }

  // The last TLS failure ("certificate verify failed: ..."), if it happened within `within`.
  std::optional<std::string> recent_tls_failure(std::chrono::seconds within) const;

  // Takes one complete line of tport output (public for the unit tests).
  void line(const std::string& text);

 private:
  static void write(void* self, const char* fmt, va_list ap);
  void tls_failure(std::string detail);

  std::string pending_;       // text of the current, unfinished line
  std::string cert_subject_;  // from the lines of one certificate error report
  std::string cert_issuer_;
  int cert_depth_ = -1;
  bool quiet_ = false;
  std::string last_tls_failure_;
  std::chrono::steady_clock::time_point last_tls_failure_at_{};
  std::function<void(const std::string&)> listener_;
};

}  // namespace b2bua::sip
