#include "b2bua/daemon/daemon.h"

#include <signal.h>

#include <chrono>
#include <thread>

#include "b2bua/common/log.h"
#include "b2bua/common/version.h"
#include "b2bua/config/config_loader.h"
#include "b2bua/daemon/service_notify.h"
#include "b2bua/daemon/signalling_plane.h"
#include "b2bua/sip/sip_thread.h"
#include "b2bua/status/status_endpoint.h"
#include "media/media_plane.h"
#include "storage/store.h"

namespace b2bua::daemon {
namespace {

log::Level to_log_level(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::debug: return log::Level::debug;
    case config::LogLevel::info: return log::Level::info;
    case config::LogLevel::warn: return log::Level::warn;
    case config::LogLevel::error: return log::Level::error;
  }
  return log::Level::info;
}

media::MediaSettings media_settings(const config::Config& c) {
  media::MediaSettings s;
  s.port_min = c.media.port_min;
  s.port_max = c.media.port_max;
  s.timeout_s = c.media.timeout;
  s.hold_timeout_s = c.media.hold_timeout;
  s.workers = c.media.workers;
  s.dscp = c.wan.dscp_rtp;
  return s;
}

// Keys whose change needs a restart: they decide which sockets exist.
void warn_restart_keys(const config::Config& a, const config::Config& b) {
  auto listen = [](const config::Config& c) {
    std::string s;
    for (const auto& l : c.lan.listen) s += l.to_sip_url() + " ";
    return s;
  };
  auto warn = [](const char* key) { B2BUA_LOG(warn, "daemon", "restart_required", {{"key", key}}); };
  if (listen(a) != listen(b)) warn("lan.listen");
  if (a.wan.address != b.wan.address || a.wan.port != b.wan.port) warn("wan.address/wan.port");
  if (a.storage.path != b.storage.path) warn("storage.path");
  if (a.status.listen != b.status.listen) warn("status.listen");
  if (a.media.workers != b.media.workers) warn("media.workers");
}

void log_load_problems(const config::LoadResult& r, const std::string& path) {
  for (const auto& e : r.errors) B2BUA_LOG(error, "config", "invalid", {{"error", e.to_string(path)}});
  for (const auto& w : r.warnings) B2BUA_LOG(warn, "config", "warning", {{"warning", w}});
}

// Relay events arrive on a media thread; they are handed to the SIP thread, where calls live.
class MediaEventBridge final : public media::MediaEvents {
 public:
  MediaEventBridge(sip::SipThread& sip, std::unique_ptr<SignallingPlane>& plane) : sip_(sip), plane_(plane) {}
  void on_latched(media::SessionId id, int leg, const media::Endpoint& peer) override {
    B2BUA_LOG(debug, "media", "latched", {{"session", id}, {"leg", leg}, {"peer", peer.to_string()}});
  }
  void on_media_timeout(media::SessionId id) override {
    sip_.post([this, id] {
      if (auto* sink = target()) sink->on_media_timeout(id);
    });
  }
  void on_released(media::SessionId id, const std::array<media::LegStats, 2>& stats) override {
    sip_.post([this, id, stats] {
      if (auto* sink = target()) sink->on_released(id, stats);
    });
  }

 private:
  // SIP thread only: the plane exists between start and stop of the SIP thread.
  media::MediaEvents* target() const { return plane_ ? plane_->media_events() : nullptr; }

  sip::SipThread& sip_;
  std::unique_ptr<SignallingPlane>& plane_;
};

}  // namespace

int run_daemon(const std::string& config_path) {
  // Signals are taken synchronously by this thread only; every thread started below inherits
  // the blocked mask, so no handler ever runs inside the SIP or media loops.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto loaded = config::load_config_file(config_path);
  log_load_problems(loaded, config_path);
  if (!loaded.ok()) {
    B2BUA_LOG(error, "daemon", "not_started", {{"reason", "invalid config"}, {"path", config_path}});
    return 1;
  }
  std::shared_ptr<const config::Config> config = loaded.config;
  log::set_level(to_log_level(config->log.level));
  B2BUA_LOG(info, "daemon", "starting", {{"version", kVersion}, {"config", config_path}});

  std::unique_ptr<storage::Store> store;
  try {
    store = storage::open_sqlite_store(config->storage.path);
  } catch (const storage::StorageError& e) {
    B2BUA_LOG(error, "daemon", "not_started", {{"reason", "database unusable"}, {"error", e.what()}});
    return 1;
  }

  sip::SipThread sip;
  std::unique_ptr<SignallingPlane> plane;
  MediaEventBridge bridge(sip, plane);
  std::unique_ptr<media::MediaPlane> media = media::start_media_plane(media_settings(*config), bridge);

  try {
    sip.start([&](su_root_t* root) { plane = std::make_unique<SignallingPlane>(root, config, store.get(), media.get()); },
              [&] { plane.reset(); });
  } catch (const std::exception& e) {
    B2BUA_LOG(error, "daemon", "not_started", {{"reason", e.what()}});
    media->stop();
    return 1;
  }
  // The status endpoint reads snapshots from the SIP thread: it starts after it, stops before it.
  int exit_code = 0;
  std::unique_ptr<status::StatusServer> status_endpoint;
  try {
    status_endpoint = status::start_status_endpoint(*config, sip, plane, *store);
  } catch (const std::exception& e) {
    B2BUA_LOG(error, "daemon", "not_started", {{"reason", e.what()}});
    exit_code = 1;
  }
  if (exit_code == 0) {
    notify_service_manager("READY=1");
    B2BUA_LOG(info, "daemon", "started", {{"lan", config->lan.listen.front().to_sip_url()},
                                          {"wan", config->wan.address.empty() ? "none" : config->wan.address},
                                          {"trunks", config->trunks.size()}, {"extensions", config->extensions.size()}});
  }

  while (exit_code == 0) {
    siginfo_t info{};
    int sig = sigwaitinfo(&signals, &info);
    if (sig == SIGHUP) {
      notify_service_manager("RELOADING=1");
      auto next = config::load_config_file(config_path);
      log_load_problems(next, config_path);
      if (!next.ok()) {
        B2BUA_LOG(error, "daemon", "reload_rejected", {{"errors", next.errors.size()}, {"kept", "running config"}});
      } else {
        warn_restart_keys(*config, *next.config);
        log::set_level(to_log_level(next.config->log.level));
        media->apply(media_settings(*next.config));
        config = next.config;
        status_endpoint->set_token(config->status.token);
        sip.post([&plane, cfg = next.config] { plane->apply_config(cfg); });
      }
      notify_service_manager("READY=1");
      continue;
    }
    if (sig == SIGTERM || sig == SIGINT) {
      B2BUA_LOG(info, "daemon", "stopping", {{"signal", sig == SIGTERM ? "TERM" : "INT"}});
      break;
    }
  }

  if (status_endpoint) status_endpoint->stop();
  notify_service_manager("STOPPING=1");
  sip.post([&] { plane->shutdown(3000, [&] { sip.stop_loop(); }); });
  sip.join();
  media->stop();
  try {
    store->flush();
  } catch (const storage::StorageError& e) {
    B2BUA_LOG(error, "daemon", "storage_flush_failed", {{"error", e.what()}});
  }
  store.reset();
  B2BUA_LOG(info, "daemon", "stopped", {});
  return exit_code;
}

}  // namespace b2bua::daemon
