// Keeps one trunk's NAT mapping alive between registrations, and notices when the flow died.
//
// Home routers forget an idle UDP mapping after ~30 s (some after 20), so the default interval
// is 20 s. Two methods, per trunk:
//  - crlf: a "\r\n\r\n" datagram from our SIP socket (the CRLF ping of RFC 5626 4.4.1); the
//    cheapest packet that refreshes the mapping and that every SIP server ignores. UDP gives
//    no pong through sofia, so every 4th ping is an OPTIONS probe that checks liveness and
//    measures the round trip. On TCP/TLS the transport pings and checks the pong itself
//    (TrunkManager sets it up); the OPTIONS probe every 4th interval stays.
//  - options: an OPTIONS (Max-Forwards: 0, so no proxy forwards it) every interval; any
//    response, even 483, proves the flow.
// A probe unanswered within its bound means the flow is dead: `dead` is reported at once so
// the trunk re-registers (a new mapping, maybe a new public address, maybe another server).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "b2bua/config/config.h"
#include "b2bua/sip/sip_agent.h"
#include "b2bua/sip/timer.h"
#include "b2bua/trunk/host_port.h"

namespace b2bua::trunk {

struct KeepaliveTarget {
  HostPort server;             // the registered flow's far end
  std::string route;           // NUTAG_PROXY towards it (ServerList::route_to())
  config::Transport transport = config::Transport::udp;
  std::string aor;             // From/To
  std::string request_uri;     // the registrar URI
  std::string contact;         // our Contact, so the provider sees the same binding
};

class Keepalive final : public sip::HandleOwner {
 public:
  struct Events {
    std::function<void(const sip_t*)> response;  // every probe response (NAT learning)
    std::function<void()> dead;                  // a probe went unanswered
  };

  // A probe unanswered this long means the flow is dead. UDP retransmits the OPTIONS at 0,
  // 0.5, 1.5 and 3.5 s (RFC 3261 timer E): one lost packet is no dead flow; four are.
  static constexpr unsigned kProbeBoundMs = 4000;

  // `purpose` names the probes in logs ("keepalive"); a lost probe is a warning when `events`
  // has a `dead` handler, debug otherwise (the failback probe of a server known to be down).
  Keepalive(sip::SipAgent& wan, std::string trunk, const config::Keepalive& settings, HostPort local, Events events,
            std::string purpose = "keepalive");
  ~Keepalive();
  Keepalive(const Keepalive&) = delete;
  Keepalive& operator=(const Keepalive&) = delete;

  void start(const KeepaliveTarget& target);
  // Probes ride on the registration's handle when there is one: the provider then sees them
  // in the registration's Call-ID, like the REGISTERs (null: a handle of our own). The owner
  // forwards nua_r_options of that handle to on_nua_event().
  void use_handle(nua_handle_t* nh);
  // Ends the ticks and abandons a probe in flight; our own handle goes with it. A handle with
  // a request pending keeps nua_shutdown() busy until that transaction ends (timer F, the WAN
  // agent's 8 s, when the server is silent: the failback probe's case), past the daemon's
  // shutdown bound; so the owner stops us before the agent shuts down (sip_agent.h). A
  // borrowed handle's pending probe is the registration's to end (it destroys that handle).
  void stop();
  bool running() const { return running_; }
  // A new interval (seconds) from the next tick on: the one sized to the NAT's measured
  // lifetime (nat_lifetime.h), or back to the configured one.
  void set_interval(unsigned seconds);
  unsigned interval() const { return static_cast<unsigned>(settings_.interval); }

  // The last probe's round trip in milliseconds (0.1 ms steps: a provider on the LAN answers
  // within one) and when it was answered (unix seconds); nullopt / 0 before the first answer.
  std::optional<double> rtt_ms() const { return rtt_ms_; }
  int64_t answered_at() const { return answered_at_; }
  unsigned pings_sent() const { return pings_sent_; }

  void on_nua_event(const sip::NuaEvent& ev) override;

 private:
  void tick();
  void send_crlf();
  void send_probe();
  void end_probe(bool drop_handle);

  sip::SipAgent& wan_;
  std::string trunk_;
  config::Keepalive settings_;
  HostPort local_;
  Events events_;
  std::string purpose_;
  KeepaliveTarget target_;
  sip::Timer tick_timer_;
  sip::Timer bound_timer_;
  nua_handle_t* own_ = nullptr;       // ours, for trunks that do not register
  nua_handle_t* borrowed_ = nullptr;  // the registration's
  nua_handle_t* probe_ = nullptr;     // the handle of the probe in flight, null when none
  std::chrono::steady_clock::time_point probe_sent_;
  std::optional<double> rtt_ms_;
  int64_t answered_at_ = 0;
  unsigned ticks_ = 0;
  unsigned pings_sent_ = 0;
  int udp_fd_ = -1;
  bool running_ = false;
};

}  // namespace b2bua::trunk
