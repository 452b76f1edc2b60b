// The LAN registrar (RFC 3261 section 10.3): phones REGISTER to the LAN agent; this feature
// checks where they come from, authenticates them (digest_auth.h), keeps their bindings
// (binding_table.h, persisted), qualifies them (qualify.h) and answers with every binding.
//
// The calls feature uses it through Phones (phones.h); everything here is SIP-thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "b2bua/config/config.h"
#include "b2bua/plane/feature.h"
#include "b2bua/registrar/auth_guard.h"
#include "b2bua/registrar/binding_table.h"
#include "b2bua/registrar/digest_auth.h"
#include "b2bua/registrar/failure_log.h"
#include "b2bua/config/extension_index.h"
#include "b2bua/registrar/phones.h"
#include "b2bua/registrar/qualify.h"
#include "b2bua/sip/silent_drop.h"
#include "b2bua/sip/timer.h"

namespace b2bua::registrar {

class Registrar final : public plane::Feature, public Phones {
 public:
  Registrar(const plane::PlaneContext& context, config::Snapshot config);
  ~Registrar() override;

  const char* name() const override { return "registrar"; }
  void apply_config(const config::Config& before, config::Snapshot now) override;
  void shutdown(std::function<void()> done) override;
  // "bindings" on each entry of status["extensions"], and status["registrar"] counters.
  void describe(nlohmann::json& status) const override;

  // Every unexpired binding of `extension`, highest q first, whether it answers qualify or not
  // (qualify.h says why). Send the INVITE to the contact through flow_uri (NUTAG_PROXY), never
  // to the Contact's host.
  RingTargets ring_targets(const std::string& extension) const override;
  void on_new_binding(NewBindingListener listener) override { new_binding_ = std::move(listener); }
  // Every binding, for the status page.
  std::vector<Binding> snapshot() const;

  bool source_blocked(const std::string& ip) const override;
  void drop_silently(nua_handle_t* nh) override;
  void auth_failed(const std::string& ip, const std::string& user, const char* method) override;
  [[nodiscard]] bool auth_succeeded(const std::string& ip, const std::string& user) override;

 private:
  void on_register(const sip::NuaEvent& ev);
  void tick();
  // auth_failed() with the request's "ip:port", kept as the extension's last failure.
  void credentials_refused(const std::string& ip, const std::string& source, const std::string& user,
                           const char* method);
  // A refusal, kept as the extension's last failure (failure_log.h); `reason` as there.
  void record_failure(const std::string& source, const std::string& user, const char* reason, const char* method);
  void log_change(const BindingChange& change, const char* reason) const;
  void on_qualify_result(const std::string& aor, const std::string& contact, bool answered);
  // `ip` is the source of a current binding of `extension`: a phone already registered there.
  bool holds_binding(const std::string& extension, const std::string& ip, int64_t now) const;

  plane::PlaneContext context_;
  config::Snapshot config_;
  config::ExtensionIndex extensions_;  // of config_
  DigestAuth digest_;
  AuthGuard guard_;
  FailureLog failures_;
  BindingTable table_;
  Qualifier qualifier_;
  sip::SilentDrop dropped_;
  sip::Timer ticker_;
  NewBindingListener new_binding_;
  uint64_t auth_failures_total_ = 0;
  uint64_t blocks_total_ = 0;
  uint64_t locks_total_ = 0;
};

}  // namespace b2bua::registrar
