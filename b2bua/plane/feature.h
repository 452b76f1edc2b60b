// The seam between the daemon and the parts of the signalling plane (registrar, trunks,
// calls, ...): what a part may use (PlaneContext) and what it offers (Feature). The daemon
// wires parts together and calls them; parts never include daemon/.
//
// Threads: every call here happens on the SIP thread, the one that runs `root`.
#pragma once

#include <functional>
#include <nlohmann/json_fwd.hpp>

#include "b2bua/config/config.h"
#include "b2bua/sip/sofia.h"

namespace b2bua::sip {
class SipAgent;
class SofiaLog;
}
namespace b2bua::storage {
class Store;
}
namespace b2bua::media {
class MediaPlane;
}

namespace b2bua::plane {

// How long a feature may spend on the network at shutdown (an un-REGISTER, the answers to the
// BYEs of its calls) before it gives those exchanges up and destroys their handles. The daemon's
// bound on the features' stop must leave room after it: when that bound is reached, the SIP
// stacks' nua_shutdown() starts, and from then on sofia 1.12 (a) waits for every handle with a
// request still pending, to its transaction timeout (timer F, 8 s on the WAN stack), and (b)
// drops every signal but the shutdown, so a handle destroyed after it stays. A far end that
// never answers (its network down) would hold the stack until the daemon gives it up, and a
// WAN rebuild would leave the old stack behind. UDP sends a request at 0, 0.5 and 1.5 s in it
// (T1 = 500 ms, RFC 3261 17.1.2.2); an answering peer answers well within it.
inline constexpr unsigned kShutdownExchangeMs = 1500;

// What a feature may use. Everything here outlives the features. The config is not here: each
// feature gets the running snapshot when it is made and each new one in apply_config().
struct PlaneContext {
  su_root_t* root = nullptr;
  sip::SipAgent* lan = nullptr;         // registrar, phone legs
  sip::SipAgent* wan = nullptr;         // trunk registrations and legs; null without wan.address
  storage::Store* store = nullptr;
  media::MediaPlane* media = nullptr;   // null when a test runs the plane without media
  sip::SofiaLog* sofia_log = nullptr;   // TLS failures, for the trunk that saw one
};

class Feature {
 public:
  virtual ~Feature() = default;
  virtual const char* name() const = 0;

  // A validated new config replaces `before`. Apply what changed and nothing else: a reload
  // must not drop calls, and an unchanged trunk must not re-register. Keep `now` (it is
  // immutable); work in progress (a call) keeps the snapshot it started with.
  virtual void apply_config(const config::Config& before, config::Snapshot now) = 0;

  // Orderly stop (SIGTERM, a WAN rebuild): unregister, hang up, flush. Call `done` when
  // finished; the daemon bounds the wait and goes on without it after the bound. Exchanges
  // with the network still unanswered after kShutdownExchangeMs are given up, and their handles
  // destroyed, before `done`.
  virtual void shutdown(std::function<void()> done) { done(); }

  // Adds this feature's part of the status snapshot (GET /status, b2bua status, metrics) to
  // `status`, e.g. status["trunks"] = [...]. The status endpoint never touches live objects.
  // Never put a password, HA1, nonce or digest in it.
  virtual void describe(nlohmann::json& status) const { (void)status; }
};

}  // namespace b2bua::plane
