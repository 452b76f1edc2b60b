// The signalling plane: both SIP agents and the features on them, owned by the SIP thread.
// It wires the features to each other (calls uses the registrar's Phones and the trunks'
// TrunkRoutes; the trunk gate hands calls its INVITEs) and drives them through the Feature seam
// (b2bua/plane/feature.h) in start order.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "b2bua/config/config.h"
#include "b2bua/plane/feature.h"
#include "media/media_plane.h"
#include "b2bua/sip/sip_agent.h"
#include "b2bua/sip/timer.h"
#include "b2bua/sip/sofia_log.h"

namespace b2bua::registrar {
class Registrar;
}
namespace b2bua::trunk {
class TrunkManager;
}
namespace b2bua::calls {
class CallManager;
}
namespace b2bua::voicemail {
class Mailboxes;
}

namespace b2bua::daemon {

class SignallingPlane {
 public:
  // SIP thread. Binds the LAN agent (and the WAN agent when wan.address is set) and starts the
  // features. Throws std::runtime_error with a clear message when an address cannot be bound.
  SignallingPlane(su_root_t* root, config::Snapshot config, storage::Store* store, media::MediaPlane* media);
  ~SignallingPlane();

  // SIP thread: a validated config replaces the running one.
  void apply_config(config::Snapshot now);

  // SIP thread: the WAN link came up or a default route appeared (the trunks retry now).
  void network_usable();

  // SIP thread: stop features (bounded by `bound_ms`), then both agents; then `done`.
  void shutdown(unsigned bound_ms, std::function<void()> done);
  // The bounds on the features' stop: at SIGTERM (systemd waits longer), and when the WAN
  // address changed (calls and trunks come back on a new stack, so the pause is kept short).
  static constexpr unsigned kStopBoundMs = 3000;
  static constexpr unsigned kRebuildBoundMs = 2000;
  // A feature gives its network exchanges up before either bound is reached, with room for its
  // `done`: the stacks' shutdown that follows the bound would wait for an exchange still
  // pending and lose the later destroy of its handle (plane::kShutdownExchangeMs).
  static_assert(plane::kShutdownExchangeMs + 300 <= kStopBoundMs);
  static_assert(plane::kShutdownExchangeMs + 300 <= kRebuildBoundMs);

  // SIP thread: the status snapshot of every feature.
  void describe(nlohmann::json& status) const;

  const config::Config& config() const { return *config_; }

  // Where relay events go once they are on the SIP thread (the calls feature).
  media::MediaEvents* media_events() const;
  // The voicemail mailboxes (the status page lists and deletes messages), or null without a store.
  voicemail::Mailboxes* mailboxes() const;

 private:
  // The features in start order (the trunk manager only with a WAN side).
  std::vector<plane::Feature*> features() const;
  void stop_agents();

  config::Snapshot config_;
  plane::PlaneContext context_;
  // Before the agents, gone after them: sofia's transport messages go through it.
  std::unique_ptr<sip::SofiaLog> sofia_log_;
  std::unique_ptr<sip::SipAgent> lan_;
  std::unique_ptr<sip::SipAgent> wan_;
  std::unique_ptr<registrar::Registrar> registrar_;
  std::unique_ptr<trunk::TrunkManager> trunks_;  // null without wan.address
  std::unique_ptr<calls::CallManager> calls_;
  sip::Timer shutdown_bound_;
  sip::Timer memory_return_;
  std::function<void()> shutdown_done_;
  size_t pending_ = 0;
  bool agents_stopping_ = false;
};

// Our User-Agent / Server header value.
std::string user_agent();

}  // namespace b2bua::daemon
