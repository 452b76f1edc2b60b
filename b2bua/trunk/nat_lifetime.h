// Measures how long the NAT in front of us keeps an idle UDP mapping, for a trunk whose
// keep-alive is "auto" (config: trunks[].keepalive.interval "auto", wan.stun).
//
// Method: STUN binding-lifetime discovery (RFC 5780 4.6) against wan.stun, run as rounds of
// probes (lifetime_search.h says which waits and why side by side). Each probe has two sockets
// of its own on the WAN address (stun_socket.h): X sends a Binding Request and learns its mapped
// port; after the wait, Y sends one with RESPONSE-PORT (RFC 5780 7.5) set to that port, and the
// server answers to X's mapping. X hears it: alive. Nothing within 4 s: Y asks once more without
// RESPONSE-PORT, and only when the server answers that is the probe dead (a silent server is no
// dead mapping).
//
// No measurement is possible when the server has no RFC 5780 support: its answer lacks
// OTHER-ADDRESS (RFC 5780 section 4: a server that supports the usage names its other address,
// and coturn honours RESPONSE-PORT only when it has one), or an immediate RESPONSE-PORT probe is
// not answered to X. The outcome then says why, and the trunk keeps its fixed interval.
//
// The measurement runs again every kRemeasureMs and whenever the owner asks (a dead flow, a new
// public address). A server that did not answer is asked again after kRetryMs.
//
// Threads: the SIP thread only; timers and sockets on its reactor, nothing blocks.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "b2bua/sip/sofia.h"
#include "b2bua/sip/timer.h"
#include "b2bua/trunk/host_port.h"
#include "b2bua/trunk/lifetime_search.h"
#include "b2bua/trunk/stun_socket.h"

namespace b2bua::trunk {

class ServerResolver;

struct NatLifetimeOutcome {
  bool measured = false;
  unsigned lifetime_ms = 0;   // the longest idle time a mapping survived
  bool at_least = false;      // it outlived every wait tried: lifetime_ms is a lower bound
  unsigned keepalive_s = 0;   // keepalive_for_lifetime(lifetime_ms)
  bool unsupported = false;   // not measured because the server cannot (not because it was silent)
  std::string reason;         // why not measured
  unsigned took_ms = 0;       // how long the measurement ran
};

class NatLifetime {
 public:
  static constexpr unsigned kRemeasureMs = 4u * 3600u * 1000u;
  static constexpr unsigned kRetryMs = 10u * 60u * 1000u;
  static constexpr unsigned kAnswerBoundMs = 4000;

  using Done = std::function<void(const NatLifetimeOutcome&)>;

  NatLifetime(su_root_t* root, ServerResolver& resolver, std::string trunk, std::string bind_address, HostPort server,
              Done done);
  ~NatLifetime();
  NatLifetime(const NatLifetime&) = delete;
  NatLifetime& operator=(const NatLifetime&) = delete;

  // Measures now (a measurement in progress starts over); `why` goes in the log.
  void measure(const char* why);
  void stop();
  bool measuring() const { return measuring_; }

 private:
  struct Probe;
  void resolved(const std::vector<HostPort>& servers, const std::string& error);
  void start_round();
  void on_x(Probe& p, const StunResponse& r);
  void on_y(Probe& p, const StunResponse& r);
  void send_x(Probe& p, unsigned attempt);
  void send_y(Probe& p, unsigned attempt);
  void verdict(Probe& p, bool alive);
  // Verdicts and failures seen on a socket take effect from the reactor (a socket's callback
  // must not destroy its socket).
  void settle();
  void fail_soon(const std::string& reason, bool unsupported);
  void finish(NatLifetimeOutcome outcome);
  void fail(const std::string& reason, bool unsupported);

  su_root_t* root_;
  ServerResolver& resolver_;
  std::string trunk_;
  std::string bind_address_;
  HostPort server_;   // as configured
  HostPort target_;   // resolved
  Done done_;
  sip::Timer next_;   // the next measurement
  sip::Timer settle_;
  std::optional<std::pair<std::string, bool>> failure_;  // reason, unsupported
  size_t settled_ = 0;  // probes of the round whose verdicts the search has
  std::optional<LifetimeSearch> search_;
  std::vector<std::unique_ptr<Probe>> probes_;  // the round in progress, ascending waits
  std::chrono::steady_clock::time_point started_;
  bool measuring_ = false;
};

}  // namespace b2bua::trunk
