// sofia-sip writes its own log (free text on stderr) from three layers we care about: the
// transport (tport: TLS certificate failures, failed handshakes, connections closed for a
// missing CRLF pong), the transaction layer (nta: sockets it cannot bind) and the user-agent
// layer (nua). SofiaLog routes those logs into ours: one key=value line per message, at a
// level an admin can filter (certificate and TLS failures and bind failures are errors, a
// missing pong a warning, the rest debug), and it remembers the last TLS failure so the trunk
// whose registration then fails can name the cause.
//
// The log objects belong to the sofia library, so one SofiaLog per process at a time; it lives
// on the SIP thread, where sofia writes.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace b2bua::sip {

class SofiaLog {
 public:
  SofiaLog();
  ~SofiaLog();
  SofiaLog(const SofiaLog&) = delete;
  SofiaLog& operator=(const SofiaLog&) = delete;

  // While set, transport messages are debug: creating a TLS transport without a client
  // certificate makes sofia complain about agent.pem, which is no fault of the admin's.
  void set_quiet(bool quiet) { quiet_ = quiet; }

  // Called with each TLS failure as it happens (one listener; null to remove it): the stack
  // itself only notices when the request's transaction times out.
  void on_tls_failure(std::function<void(const std::string&)> listener) { listener_ = std::move(listener); }

  // The last TLS failure ("certificate not trusted: ..."), if it happened within `within`.
  std::optional<std::string> recent_tls_failure(std::chrono::seconds within) const;

  // One complete line of transport (tport) or stack (nta, nua) output; public for the tests.
  void transport_line(const std::string& text);
  void stack_line(const std::string& module, const std::string& text);

 private:
  // One redirected sofia log: its name and the unfinished line it has written so far.
  struct Source {
    SofiaLog* owner;
    const char* module;
    std::string pending;
  };
  static void write(void* source, const char* fmt, va_list ap);
  void tls_failure(std::string detail);

  Source tport_{this, "tport", {}};
  Source nta_{this, "nta", {}};
  Source nua_{this, "nua", {}};
  std::string cert_subject_;  // from the lines of one certificate error report
  std::string cert_issuer_;
  int cert_depth_ = -1;
  bool quiet_ = false;
  std::string last_tls_failure_;
  std::chrono::steady_clock::time_point last_tls_failure_at_{};
  std::function<void(const std::string&)> listener_;
};

}  // namespace b2bua::sip
