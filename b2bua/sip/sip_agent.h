// One SIP user agent (a sofia nua instance) bound to one side: the LAN agent (registrar, phone
// legs) or the WAN agent (trunk registrations, trunk legs).
//
// Two instances, never one: a nua that holds a registration adds that registration's Contact
// and Service-Route to every new request it sends, so a shared instance would send LAN
// requests with our public contact, routed via the trunk.
//
// Events are dispatched in two ways. A handle bound to a HandleOwner (nua_handle_bind, or the
// magic given to nua_handle()) sends all its events there. Requests that arrive on a fresh
// handle go to the handler registered for that event; a request nobody handles is answered
// (501/405) and its handle destroyed, so no handle leaks.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "b2bua/sip/sofia.h"

namespace b2bua::sip {

struct NuaEvent {
  nua_event_t event;
  int status;
  const char* phrase;
  nua_t* nua;
  nua_handle_t* nh;
  const sip_t* sip;
  tagi_t* tags;
  SipAgent& agent;
};

class HandleOwner {
 public:
  virtual void on_nua_event(const NuaEvent& ev) = 0;

 protected:
  ~HandleOwner() = default;
};

// The methods a dialog of ours needs; the Allow list starts from these, never from sofia's
// default. sofia answers an allowed method it does not hand to the application by itself
// (REFER and SUBSCRIBE with 202, and for an out-of-dialog REFER it then NOTIFYs whatever
// Contact the sender named: a reflection anyone on the internet can trigger). A method not in
// Allow gets 405 and nothing else.
inline constexpr const char* kServedMethods = "INVITE, ACK, BYE, CANCEL, OPTIONS, PRACK, UPDATE";

struct AgentOptions {
  std::string name;          // "lan" | "wan", used in logs
  std::string url;           // NUTAG_URL: sip:host:port[;transport=x]
  std::string user_agent;    // our own User-Agent, never a phone's
  std::string allow_methods; // added to the methods every agent serves (kServedMethods), e.g. "REGISTER"
  std::string appl_methods;  // methods answered by us rather than by nua, e.g. "OPTIONS"
  int dscp = -1;             // IP_TOS for SIP packets (-1 leaves it)
  std::string sips_url;      // NUTAG_SIPS_URL: adds a TLS transport when set
  std::string tls_ca_dir;    // trusted CAs for outgoing TLS (TPTAG_CERTIFICATE)
  unsigned transaction_timeout_ms = 0;  // timers B/F/H/J (64*T1); 0 keeps sofia's 32 s
};

class SipAgent {
 public:
  using Handler = std::function<void(const NuaEvent&)>;

  // SIP thread only. Throws std::runtime_error when the address cannot be bound.
  SipAgent(su_root_t* root, const AgentOptions& options);
  ~SipAgent();
  SipAgent(const SipAgent&) = delete;
  SipAgent& operator=(const SipAgent&) = delete;

  nua_t* nua() const { return nua_; }
  su_root_t* root() const { return root_; }
  const std::string& name() const { return options_.name; }
  const AgentOptions& options() const { return options_; }

  // Requests on fresh handles, by event (nua_i_register, nua_i_invite, nua_i_options, ...).
  void on_request(nua_event_t event, Handler handler) { handlers_[event] = std::move(handler); }

  // Unregisters and ends every dialog of this agent (nua_shutdown); `done` runs when the stack
  // reports it is finished. The agent may be destroyed after that.
  void shutdown(std::function<void()> done);
  bool shut_down() const { return shut_down_; }

 private:
  static void callback(nua_event_t event, int status, const char* phrase, nua_t* nua, SipAgent* self,
                       nua_handle_t* nh, HandleOwner* owner, const sip_t* sip, tagi_t tags[]);
  void unhandled(const NuaEvent& ev);

  su_root_t* root_;
  AgentOptions options_;
  nua_t* nua_ = nullptr;
  std::map<nua_event_t, Handler> handlers_;
  std::function<void()> shutdown_done_;
  bool shutting_down_ = false;
  bool shut_down_ = false;
};

// The source address of the request being handled in a callback: "ip" and port.
bool request_source(nua_t* nua, std::string& ip, uint16_t& port, std::string& transport);

}  // namespace b2bua::sip
