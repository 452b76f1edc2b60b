// What every part of the signalling plane (registrar, trunks, calls, ...) offers the daemon:
// live reload and an orderly stop. Both are called on the SIP thread.
#pragma once

#include <functional>
#include <memory>
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

namespace b2bua::daemon {

// What a feature may use. Everything outlives the features.
struct PlaneContext {
  su_root_t* root = nullptr;
  sip::SipAgent* lan = nullptr;         // registrar, phone legs
  sip::SipAgent* wan = nullptr;         // trunk registrations and legs; null without wan.address
  storage::Store* store = nullptr;
  media::MediaPlane* media = nullptr;   // null when a test runs the plane without media
  // The running config, replaced on reload before features' apply_config() runs; keep a copy
  // of the shared_ptr where something must outlive a reload (a call in progress).
  const std::shared_ptr<const config::Config>* config = nullptr;
  sip::SofiaLog* sofia_log = nullptr;  // TLS failures, for the trunk that saw one
};

class Feature {
 public:
  virtual ~Feature() = default;
  virtual const char* name() const = 0;

  // A validated new config replaces `before`. Apply what changed and nothing else: a reload
  // must not drop calls, and an unchanged trunk must not re-register.
  virtual void apply_config(const config::Config& before, const config::Config& now) = 0;

  // Orderly stop (SIGTERM): unregister, hang up, flush. Call `done` when finished; the daemon
  // bounds the wait and goes on without it after the bound.
  virtual void shutdown(std::function<void()> done) { done(); }

  // Adds this feature's part of the status snapshot (GET /status, b2bua status, metrics) to
  // `status`, e.g. status["trunks"] = [...]. Called on the SIP thread; the status endpoint
  // never touches live objects. Never put a password, HA1, nonce or digest in it.
  virtual void describe(nlohmann::json& status) const { (void)status; }
};

}  // namespace b2bua::daemon
