// One trunk's registration at its provider, and everything that keeps it alive: the state
// machine (registering, registered, auth_failed, backoff, disabled), digest answers, refresh,
// our own retry policy, server failover, the keep-alive, public address learning and the ALG
// check. Lives on the SIP thread; one per configured trunk.
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
#include "b2bua/trunk/keepalive.h"
#include "b2bua/trunk/nat_address.h"
#include "b2bua/trunk/retry_policy.h"
#include "b2bua/trunk/server_resolver.h"
#include "b2bua/trunk/trunk_state.h"

namespace b2bua::storage {
class TrunkStateRepository;
}

namespace b2bua::trunk {

// The Contact user part that names this trunk: stable across restarts, unique per account.
std::string registration_token(const config::Trunk& trunk);

// The AoR domain: `domain` if configured, else the registrar URI's host (IPv6 in brackets).
std::string trunk_domain(const config::Trunk& trunk);

// "sip:user@domain": the address-of-record we register.
std::string trunk_aor(const config::Trunk& trunk);

class TrunkRegistration final : public sip::HandleOwner {
 public:
  TrunkRegistration(sip::SipAgent& wan, const config::Wan& wan_config, const config::Trunk& trunk,
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

  // For the WAN source filter: the resolved servers and the flow we registered through.
  const std::vector<HostPort>& servers() const { return servers_; }
  std::optional<HostPort> current_server() const;
  // The Contact to put in requests and answers towards this provider ("<sip:token@pub:port>").
  std::string contact() const;
  // Where requests to this provider go (NUTAG_PROXY): "sip:ip:port[;transport=x]", or for TLS
  // "sip:name:port;transport=tls;maddr=ip" so the certificate is checked against the name.
  std::string route() const { return route_to(server_index_); }
  std::string route_to(size_t index) const;

  void on_nua_event(const sip::NuaEvent& ev) override;
  // A TLS connection of the WAN agent failed (sofia_log.h): a TLS trunk waiting for its
  // REGISTER's answer gives up on it at once instead of at the response bound.
  void on_tls_failure();

 private:
  void resolve();
  void resolve_next(size_t index);
  void on_resolved(const Resolution& r);
  void send_register();
  void send_unregister();
  void on_register_response(const sip::NuaEvent& ev);
  void on_unregister_response(const sip::NuaEvent& ev);
  bool answer_challenge(const sip::NuaEvent& ev, bool unregister);
  void on_registered(const sip::NuaEvent& ev);
  void on_failed(int status, const std::string& phrase, const sip_t* sip, bool bad_credentials);
  void on_response_timeout();
  void on_flow_dead();
  void update_failback();
  void fail_back();
  void on_public_address_seen(const sip_t* sip);
  void remember_stale_contact();
  void set_state(TrunkState state);
  void persist();
  void destroy_handle();
  void finish_stop();
  unsigned granted_expiry(const sip_t* sip) const;
  std::string contact_for(const HostPort& address) const;
  std::string transport_param() const;

  sip::SipAgent& wan_;
  config::Wan wan_config_;
  config::Trunk trunk_;
  ServerResolver& resolver_;
  storage::TrunkStateRepository* states_;
  const sip::SofiaLog* sofia_log_;
  std::string token_;
  std::string aor_;
  std::string registrar_uri_;

  std::vector<HostPort> servers_;
  std::vector<std::string> server_names_;  // the URI host each server was resolved from
  size_t server_index_ = 0;
  std::vector<SipTarget> targets_;  // registrar or proxy, then backup_servers
  Resolution resolving_;            // what the lookups so far found
  std::vector<std::string> resolving_names_;
  NatAddress nat_;
  AlgDetector alg_;
  RetryPolicy retry_;
  Keepalive keepalive_;
  // While registered through a backup server: probes the preferred one (servers_[0]) every
  // keep-alive interval and moves the registration back when it answers.
  Keepalive failback_;

  sip::Timer retry_timer_;
  sip::Timer response_timer_;
  sip::Timer refresh_watchdog_;
  sip::Timer resolve_timer_;
  sip::Timer stop_timer_;

  nua_handle_t* nh_ = nullptr;
  TrunkState state_ = TrunkState::disabled;
  int expires_;
  int too_brief_ = 0;
  int challenges_answered_ = 0;
  std::string own_authorization_;  // for providers sofia cannot answer (mixed algorithms)
  bool own_authorization_proxy_ = false;
  std::string own_authorization_call_id_;
  HostPort contact_sent_;          // where the Contact of the last REGISTER pointed
  std::string stale_contact_;      // a Contact to remove (expires=0) with the next REGISTER
  int64_t registered_until_ = 0;
  int last_status_ = 0;
  std::string last_phrase_;
  bool stopping_ = false;
  std::function<void()> stop_done_;
};

}  // namespace b2bua::trunk
