// Qualify: an OPTIONS to every binding every `interval` seconds, sent through the binding's
// flow (NUTAG_PROXY = source ip:port;transport), so a phone behind a NAT is reached on the
// mapping its REGISTER opened, and that mapping is kept fresh. Any response means the phone
// answers OPTIONS; no response within the timeout means it does not. That is for the status
// and the log only, never a reason to leave a binding out of a call: some phones ignore
// OPTIONS, a firewall may drop them, a sleeping softphone may miss them, and all of those
// still take an INVITE. The result is reported only on a transition.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "b2bua/registrar/binding_table.h"
#include "b2bua/sip/sip_agent.h"

namespace b2bua::registrar {

class Qualifier final : public sip::HandleOwner {
 public:
  using Report = std::function<void(const std::string& aor, const std::string& contact, bool answered)>;

  Qualifier(sip::SipAgent& agent, std::string from_domain, Report report);
  ~Qualifier();
  Qualifier(const Qualifier&) = delete;
  Qualifier& operator=(const Qualifier&) = delete;

  void set_interval(int seconds) { interval_s_ = seconds; }
  // Called every second: sends what is due, times out what went unanswered, forgets bindings
  // that are gone.
  void tick(const BindingTable& table, int64_t now);
  // Ends every outstanding OPTIONS (shutdown).
  void stop();

  void on_nua_event(const sip::NuaEvent& ev) override;

 private:
  using Key = std::pair<std::string, std::string>;  // aor, contact
  struct State {
    int64_t next_at = 0;
    int64_t sent_at = 0;
    nua_handle_t* pending = nullptr;
  };
  void send(const Binding& b, State& s, int64_t now);
  void finish(State& s);
  int timeout_s() const;

  sip::SipAgent& agent_;
  std::string from_;
  Report report_;
  int interval_s_ = 30;
  std::map<Key, State> states_;
  std::map<nua_handle_t*, Key> by_handle_;
};

}  // namespace b2bua::registrar
