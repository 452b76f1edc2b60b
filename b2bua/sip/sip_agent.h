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
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "b2bua/config/config.h"
#include "b2bua/sip/connection_warden.h"
#include "b2bua/sip/flood_guard.h"
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
  std::string user_agent;    // our own User-Agent, never a phone's; empty: none at all
  std::string allow_methods; // added to the methods every agent serves (kServedMethods), e.g. "REGISTER"
  std::string appl_methods;  // methods answered by us rather than by nua, e.g. "OPTIONS"
  int dscp = -1;             // IP_TOS for SIP packets (-1 leaves it)
  std::string sips_url;      // NUTAG_SIPS_URL: adds a TLS transport when set
  std::string tls_ca_dir;    // trusted CAs for outgoing TLS (TPTAG_CERTIFICATE)
  unsigned transaction_timeout_ms = 0;  // timers B/F/H/J (64*T1); 0 keeps sofia's 32 s
  StreamLimits stream_limits{};         // for connections peers open to our TCP/TLS ports
  std::optional<FloodLimits> flood{};   // requests a second (flood_guard.h); none: no guard
  std::string supported{};              // option tags added to Supported, e.g. "replaces"
};

// sofia's defaults keep 2 MB per message and wait forever for the rest of one on a
// connection. No SIP message of ours or a phone's comes near 64 KiB (RFC 3261 18.1.1 moves
// anything above ~1300 bytes to TCP, it does not make it large); larger gets 413 and the
// connection is closed. A message that stops half way gets 400 and close after 10 s. That
// timer restarts with every byte, so a peer trickling a header a byte at a time is the
// connection warden's (slow_message, connection_warden.h).
inline constexpr unsigned kMaxMessageBytes = 65536;
inline constexpr unsigned kMessageCompleteMs = 10000;

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
  // Owners destroy the handles of requests they no longer wait for (probes, queries) before
  // this: nua_shutdown waits for every pending client transaction on any handle, to a silent
  // server until timer F (nua_stack_shutdown counts nua_client_request_pending() as busy),
  // and once it started, sofia 1.12 refuses every signal but the shutdown itself (nua_signal),
  // so a nua_handle_destroy() after it is lost.
  void shutdown(std::function<void()> done);
  bool shut_down() const { return shut_down_; }

  // Connections peers hold to this agent's TCP/TLS ports; null when it listens on none.
  ConnectionWarden* connections() const { return warden_.get(); }

  // SIP thread. What reaches this agent's sockets at all (sip/source_filter.h): its UDP
  // sockets (SOCK_DGRAM), its TCP/TLS listeners (SOCK_STREAM), or both (0). Null lets
  // everything in again.
  void filter_sources(const SourceRules* rules, int socket_type = 0);
  // The flood guard, when the options asked for one; the owner of the agent's phones tells it
  // where they registered from (let in while the guard's shield is on).
  FloodGuard* flood_guard() const { return flood_guard_.get(); }
  void set_known_sources(std::function<std::vector<std::string>()> known) { known_sources_ = std::move(known); }
  // Datagrams the kernel dropped on this agent's UDP sockets: the filter's, and those that
  // found the receive queue full.
  uint64_t datagrams_dropped() const;

 private:
  static void callback(nua_event_t event, int status, const char* phrase, nua_t* nua, SipAgent* self,
                       nua_handle_t* nh, HandleOwner* owner, const sip_t* sip, tagi_t tags[]);
  void unhandled(const NuaEvent& ev);

  su_root_t* root_;
  AgentOptions options_;
  nua_t* nua_ = nullptr;
  std::map<nua_event_t, Handler> handlers_;
  std::vector<OwnSocket> sockets_;  // bound while the stack started; gone at shutdown
  std::unique_ptr<ConnectionWarden> warden_;
  std::unique_ptr<FloodGuard> flood_guard_;
  std::function<std::vector<std::string>()> known_sources_;
  std::function<void()> shutdown_done_;
  bool shutting_down_ = false;
  bool shut_down_ = false;
};

// Why a request the parser let through must still be refused (400), or null. sofia takes a
// message as complete when a datagram or a connection ends with nothing left to parse, before
// its empty line or with its body missing, and takes an empty Call-ID: such a request must
// neither place a call nor store a binding.
const char* request_defect(const sip_t* sip);

// The source address of the request being handled in a callback: "ip" and port.
bool request_source(nua_t* nua, std::string& ip, uint16_t& port, std::string& transport);

}  // namespace b2bua::sip
