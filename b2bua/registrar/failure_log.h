// Why a phone last failed to register, per extension, so `b2bua doctor` can say "wrong
// password from 192.168.1.23 at 14:05" instead of only "not registered".
//
// Recorded only on the refusal paths (never for a REGISTER that succeeds), so the hot path
// pays nothing. Memory is bounded: one entry per configured extension (the caller only names
// an extension that is in the config), and kUnknownKept entries for user names that are no
// extension, which a scanner may invent without end.
//
// Threads: the SIP thread only, like the registrar that owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>

namespace b2bua::registrar {

struct RegisterFailure {
  int64_t at = 0;          // unix seconds
  std::string source;      // "ip:port" the request came from
  std::string user;        // the digest user name, else the To user ("" when none)
  std::string reason;      // see FailureLog::record
  std::string method;      // "REGISTER", "INVITE", ...
};

class FailureLog {
 public:
  static constexpr size_t kUnknownKept = 8;

  // `reason`: "wrong_password" (the digest did not match), "outside_lan" (the source is not in
  // lan.networks), "blocked" (the source is blocked after repeated failures: the password
  // guard, then the flood guard), "locked" (the extension is locked, auth_guard.h),
  // "other_extension" (credentials of one extension used to register another).
  // `extension`: true when `f.user` is a configured extension.
  void record(bool extension, RegisterFailure f);
  // Forgets extensions for which `keep` is false (removed from the config).
  void retain(const std::function<bool(const std::string&)>& keep);

  const std::map<std::string, RegisterFailure>& by_extension() const { return by_extension_; }
  const std::deque<RegisterFailure>& unknown() const { return unknown_; }  // oldest first

 private:
  std::map<std::string, RegisterFailure> by_extension_;
  std::deque<RegisterFailure> unknown_;
};

}  // namespace b2bua::registrar
