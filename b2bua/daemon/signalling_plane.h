// The signalling plane: both SIP agents and the features on them, owned by the SIP thread.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "b2bua/config/config.h"
#include "b2bua/calls/call_ports.h"
#include "b2bua/daemon/feature.h"
#include "media/media_plane.h"
#include "b2bua/sip/sip_agent.h"
#include "b2bua/sip/timer.h"
#include "b2bua/sip/sofia_log.h"

namespace b2bua::daemon {

class SignallingPlane {
 public:
  // SIP thread. Binds the LAN agent (and the WAN agent when wan.address is set) and starts the
  // features. Throws std::runtime_error with a clear message when an address cannot be bound.
  SignallingPlane(su_root_t* root, std::shared_ptr<const config::Config> config, storage::Store* store,
                  media::MediaPlane* media);
  ~SignallingPlane();

  // SIP thread: a validated config replaces the running one.
  void apply_config(std::shared_ptr<const config::Config> now);

  // SIP thread: stop features (bounded by `bound_ms`), then both agents; then `done`.
  void shutdown(unsigned bound_ms, std::function<void()> done);

  // SIP thread: the status snapshot of every feature.
  void describe(nlohmann::json& status) const;

  const config::Config& config() const { return *config_; }

  // Where relay events go once they are on the SIP thread (the calls feature).
  media::MediaEvents* media_events() const { return media_events_; }

 private:
  void stop_agents();

  std::shared_ptr<const config::Config> config_;
  PlaneContext context_;
  // Before the agents, gone after them: sofia's transport messages go through it.
  std::unique_ptr<sip::SofiaLog> sofia_log_;
  std::unique_ptr<sip::SipAgent> lan_;
  std::unique_ptr<sip::SipAgent> wan_;
  std::vector<std::unique_ptr<Feature>> features_;
  std::unique_ptr<calls::Phones> phones_;
  std::unique_ptr<calls::Trunks> trunk_routes_;
  media::MediaEvents* media_events_ = nullptr;
  sip::Timer shutdown_bound_;
  std::function<void()> shutdown_done_;
  size_t pending_ = 0;
  bool agents_stopping_ = false;
};

// Our User-Agent / Server header value.
std::string user_agent();

}  // namespace b2bua::daemon
