// Noticing that the provider forgot our registration.
//
// A registrar that restarts or fails over to a twin may lose its location table, and it tells
// nobody: keep-alives are still answered, our refresh is minutes away, and until then every
// inbound call goes to the provider's voicemail. So while registered, every `binding_check`
// seconds we ask the registrar which bindings it holds: a REGISTER without Contact is a query
// that changes nothing, and its 2xx lists the address-of-record's current Contacts (RFC 3261
// 10.2.3, 10.3 step 6). When ours (the Contact whose user part is the trunk's token) is not
// among them, `lost` runs and the trunk registers again at once.
//
// The query answers the provider's challenge like a REGISTER does; on its own handle nua keeps
// the nonce, so while the nonce stays valid a check is one request and one response.
//
// A registrar that never lists bindings in a query's answer would make us re-register every
// check: when ours is missing twice in a row with a successful registration in between, the
// check stops for this trunk (logged once). So does a registrar that refuses queries three
// times in a row. Timeouts are the keep-alive's business (a dead flow), not ours.
//
// Threads: the SIP thread only.
#pragma once

#include <functional>
#include <string>

#include "b2bua/config/config.h"
#include "b2bua/sip/sip_agent.h"
#include "b2bua/sip/timer.h"
#include "b2bua/trunk/provider_auth.h"

namespace b2bua::trunk {

// True when the 2xx `response` to a REGISTER lists a Contact with user part `token` that has
// not expired: the provider still holds our binding (whatever address it recorded for it).
bool lists_binding(const sip_t* response, const std::string& token);

struct BindingCheckTarget {
  std::string route;          // NUTAG_PROXY: the server we registered with
  std::string aor;            // From/To
  std::string registrar_uri;  // Request-URI
  std::string token;          // our Contact's user part
};

class BindingCheck final : public sip::HandleOwner {
 public:
  // `trunk` must outlive the check (the registration's config snapshot holds it).
  BindingCheck(sip::SipAgent& wan, const config::Trunk& trunk, std::function<void()> lost);
  ~BindingCheck();
  BindingCheck(const BindingCheck&) = delete;
  BindingCheck& operator=(const BindingCheck&) = delete;

  // After every successful registration: the first query goes one period later.
  void start(const BindingCheckTarget& target);
  void stop();
  // Queries sent so far (for the status and the tests of its cost).
  unsigned sent() const { return sent_; }

  void on_nua_event(const sip::NuaEvent& ev) override;

 private:
  void send();
  void query();  // the REGISTER without Contact, with our digest answer when we made one
  void answered(const sip::NuaEvent& ev);
  void give_up(const char* reason);
  void drop_handle();

  sip::SipAgent& wan_;
  const config::Trunk& trunk_;
  std::function<void()> lost_;
  BindingCheckTarget target_;
  ProviderAuth auth_;
  sip::Timer period_;
  nua_handle_t* nh_ = nullptr;
  bool pending_ = false;
  int challenges_answered_ = 0;
  bool missing_before_ = false;  // the last answer lacked our binding (we registered since)
  int refused_in_a_row_ = 0;
  bool given_up_ = false;
  unsigned sent_ = 0;
};

}  // namespace b2bua::trunk
