// One trunk's registration at its provider, and everything that keeps it alive: the state
// machine (registering, registered, auth_failed, backoff, disabled), digest answers, refresh,
// our own retry policy, the keep-alive, public address learning and the ALG check. Which
// server to send to (and failing over between servers) is server_list.h, answering digest
// challenges provider_auth.h, our Contact from one REGISTER to the next
// registration_contact.h. Lives on the SIP thread; one per configured trunk.
//
// We register with an explicit Contact whose user part is this trunk's token, the FreeSWITCH
// way, rather than letting nua's outbound engine natify a generated Contact: the token lets an
// inbound INVITE name its trunk (trunk_manager.h), and we decide ourselves when a changed
// received/rport warrants a new Contact. nua's outbound engine is told not to send its own
// keep-alives or validation requests (keepalive.h does that, to the right server).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "b2bua/config/config.h"
#include "b2bua/sip/sip_agent.h"
#include "b2bua/sip/timer.h"
#include "b2bua/sip/sofia_log.h"
#include "b2bua/trunk/alg_detector.h"
#include "b2bua/trunk/binding_check.h"
#include "b2bua/trunk/failed_exchange.h"
#include "b2bua/trunk/keepalive.h"
#include "b2bua/trunk/nat_address.h"
#include "b2bua/trunk/nat_lifetime.h"
#include "b2bua/trunk/provider_auth.h"
#include "b2bua/trunk/registration_contact.h"
#include "b2bua/trunk/retry_policy.h"
#include "b2bua/trunk/server_list.h"
#include "b2bua/trunk/trunk_state.h"

namespace b2bua::storage {
class TrunkStateRepository;
}

namespace b2bua::trunk {

class TrunkRegistration final : public sip::HandleOwner {
 public:
  // `trunk` is one of `running_config->trunks`: the registration keeps that snapshot.
  TrunkRegistration(sip::SipAgent& wan, config::Snapshot running_config, const config::Trunk& trunk,
                    ServerResolver& resolver, storage::TrunkStateRepository* states,
                    const sip::SofiaLog* sofia_log = nullptr);
  ~TrunkRegistration();
  TrunkRegistration(const TrunkRegistration&) = delete;
  TrunkRegistration& operator=(const TrunkRegistration&) = delete;

  void start();
  // Un-REGISTERs (Expires: 0) when a binding may exist, within a few seconds; then `done`.
  void stop(std::function<void()> done);

  const config::Trunk& config() const { return trunk_; }
  const std::string& token() const { return token_; }
  const std::string& aor() const { return aor_; }
  TrunkSnapshot snapshot() const;

  // For the WAN gate and source filter: the resolved servers and the flow we registered through.
  const std::vector<HostPort>& servers() const { return servers_.servers(); }
  // Runs after every lookup of the servers, before anything is sent to them.
  void on_servers_changed(std::function<void()> fn) { servers_changed_ = std::move(fn); }
  std::optional<HostPort> current_server() const { return servers_.current(); }
  // The Contact to put in requests and answers towards this provider ("<sip:token@pub:port>").
  std::string contact() const { return contact_.current(); }
  // Where requests to this provider go (NUTAG_PROXY; see ServerList::route()).
  std::string route() const { return servers_.route(); }

  // A trunk waiting to retry (backoff, a failed lookup) registers now; `why` goes in the log.
  // Registered trunks, a REGISTER in flight and rejected credentials are left as they are.
  void retry_now(const char* why);

  void on_nua_event(const sip::NuaEvent& ev) override;
  // A TLS connection of the WAN agent failed (sofia_log.h): a TLS trunk waiting for its
  // REGISTER's answer gives up on it at once instead of at the response bound.
  void on_tls_failure();

 private:
  void on_resolved(ServerList::Outcome outcome, const std::string& error);
  void send_register();
  void send_unregister();
  void on_register_response(const sip::NuaEvent& ev);
  void on_unregister_response(const sip::NuaEvent& ev);
  bool answer_challenge(const sip::NuaEvent& ev, bool unregister);
  void on_registered(const sip::NuaEvent& ev);
  RetryDecision on_failed(int status, const std::string& phrase, const sip_t* sip, bool bad_credentials);
  void on_response_timeout();
  void give_up_attempt(int status, const char* phrase);
  void on_flow_dead();
  void on_binding_lost();
  void on_retry_after(const sip::NuaEvent& ev);
  void update_failback();
  void fail_back();
  void on_public_address_seen(const sip_t* sip);
  // keepalive.interval "auto": the NAT's lifetime measured (or found unmeasurable).
  void on_nat_lifetime(const NatLifetimeOutcome& outcome);
  void remeasure_nat(const char* why);
  void set_state(TrunkState state);
  // What `b2bua doctor` shows of the REGISTERs: each one's server and outcome, and the last
  // failing exchange (failed_exchange.h).
  void record_attempt(std::string result);
  void record_failure(int status, const std::string& phrase, const sip_t* sip);
  void persist();
  void destroy_handle();
  void finish_stop();

  sip::SipAgent& wan_;
  config::Snapshot config_;
  const config::Trunk& trunk_;  // in config_
  storage::TrunkStateRepository* states_;
  const sip::SofiaLog* sofia_log_;
  std::string token_;
  std::string aor_;
  std::string registrar_uri_;

  ServerList servers_;
  std::function<void()> servers_changed_;
  NatAddress nat_;
  RegistrationContact contact_;
  AlgDetector alg_;
  RetryPolicy retry_;
  Keepalive keepalive_;
  // While registered through a backup server: probes the preferred one (the first) every
  // keep-alive interval and moves the registration back when it answers.
  Keepalive failback_;
  BindingCheck binding_check_;
  std::unique_ptr<NatLifetime> nat_lifetime_;  // only for keepalive.interval "auto" with wan.stun
  std::optional<NatLifetimeOutcome> nat_outcome_;
  std::string nat_unavailable_logged_;         // the reason last logged, so each is logged once

  sip::Timer retry_timer_;
  sip::Timer response_timer_;
  sip::Timer refresh_watchdog_;
  sip::Timer stop_timer_;

  nua_handle_t* nh_ = nullptr;
  TrunkState state_ = TrunkState::disabled;
  int expires_;
  int too_brief_ = 0;
  int challenges_answered_ = 0;
  std::optional<ChallengeSummary> answered_challenge_;  // the challenge answered in this attempt
  std::vector<Attempt> attempts_;                       // the last kAttemptsKept, oldest first
  std::optional<FailedExchange> last_failure_;
  ProviderAuth auth_;
  int64_t registered_until_ = 0;
  int last_status_ = 0;
  std::string last_phrase_;
  bool stopping_ = false;
  std::function<void()> stop_done_;
};

}  // namespace b2bua::trunk
