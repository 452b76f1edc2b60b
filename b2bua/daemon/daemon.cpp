#include "b2bua/daemon/daemon.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "b2bua/voicemail/mailbox.h"
#include "b2bua/common/log.h"
#include "b2bua/common/version.h"
#include "b2bua/config/config_loader.h"
#include "b2bua/daemon/service_notify.h"
#include "b2bua/daemon/signalling_plane.h"
#include "b2bua/daemon/wan_address_watch.h"
#include "b2bua/sip/sip_thread.h"
#include "b2bua/status/snapshot.h"
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
  auto tls = [](const config::Config& c) {
    return c.any_trunk_on(config::Transport::tls) ? std::to_string(c.wan.tls_port) + c.wan.tls_ca_dir : std::string();
  };
  if (tls(a) != tls(b)) warn("wan.tls_port/wan.tls_ca_dir (the TLS transport, bound when a trunk uses TLS)");
  if (a.any_trunk_on(config::Transport::tcp) != b.any_trunk_on(config::Transport::tcp)) {
    warn("trunks[].transport (the WAN TCP transport, bound when a trunk uses TCP)");
  }
  if (a.wan.resolv_conf != b.wan.resolv_conf) warn("wan.resolv_conf");
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
    sip_.post([this, id, leg, peer] {
      if (auto* sink = target()) sink->on_latched(id, leg, peer);
    });
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
  void on_one_way_audio(media::SessionId id, int silent, const std::array<media::LegStats, 2>& stats) override {
    sip_.post([this, id, silent, stats] {
      if (auto* sink = target()) sink->on_one_way_audio(id, silent, stats);
    });
  }
  void on_voice(media::SessionId id, media::VoiceEvent event) override {
    // A recording's samples move along; the task itself may be copied by the queue.
    auto moved = std::make_shared<media::VoiceEvent>(std::move(event));
    sip_.post([this, id, moved] {
      if (auto* sink = target()) sink->on_voice(id, std::move(*moved));
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

  // Signals come in through a signalfd so one poll() also hears the WAN address watch.
  int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
  std::unique_ptr<WanAddressWatch> watch;
  if (config->wan.interface && !config->wan.address.empty()) {
    try {
      watch = std::make_unique<WanAddressWatch>(*config->wan.interface);
    } catch (const std::exception& e) {
      B2BUA_LOG(error, "daemon", "address_watch_unavailable", {{"interface", *config->wan.interface}, {"error", e.what()}});
    }
  }
  // Rebuilding the signalling plane on a new WAN address: every agent and feature comes up
  // again from the config (bindings and trunk state come back from storage); the relay and the
  // status endpoint stay. Calls on the old address cannot survive it anyway.
  std::atomic<bool> rebuild_failed{false};
  auto rebuild = [&](std::shared_ptr<const config::Config> next) {
    sip.post([&, next] {
      auto make_new = [&, next] {
        sip.post([&, next] {
          plane.reset();
          try {
            plane = std::make_unique<SignallingPlane>(sip.root(), next, store.get(), media.get());
            rebuild_failed = false;
            B2BUA_LOG(info, "daemon", "wan_rebuilt", {{"wan", next->wan.address}});
          } catch (const std::exception& e) {
            rebuild_failed = true;
            B2BUA_LOG(error, "daemon", "wan_rebuild_failed", {{"wan", next->wan.address}, {"error", e.what()}});
          }
        });
      };
      if (plane) {
        plane->shutdown(SignallingPlane::kRebuildBoundMs, make_new);
      } else {
        make_new();
      }
    });
  };
  // The interface's address family is the configured address's (the running config's address
  // is empty while b2bua waits for the interface to get one).
  int wan_family = config->wan.address.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  // The WAN address in force: the interface's own. While it has none (an ISP reconnect between
  // losing the old address and getting the new one) the running address stays.
  auto follow_interface = [&](const std::shared_ptr<const config::Config>& c) -> std::shared_ptr<const config::Config> {
    if (!watch) return c;
    auto now = watch->current(wan_family);
    std::string address = now ? *now : config->wan.address;
    if (address == c->wan.address) return c;
    auto copy = std::make_shared<config::Config>(*c);
    copy->wan.address = address;
    return copy;
  };
  if (watch && !watch->current(wan_family)) {
    // A router may start us before its WAN link has an address (DHCP, PPP). The LAN side runs
    // now; the WAN side and the trunks come up the moment the address does.
    B2BUA_LOG(warn, "daemon", "wan_waiting",
              {{"interface", watch->interface()}, {"reason", "the interface has no address yet"},
               {"action", "phones are served now; trunks register once it has one"}});
    auto copy = std::make_shared<config::Config>(*config);
    copy->wan.address.clear();
    config = copy;
  } else if (auto followed = follow_interface(config); followed != config) {
    B2BUA_LOG(info, "daemon", "wan_address_from_interface",
              {{"interface", *config->wan.interface}, {"configured", config->wan.address}, {"using", followed->wan.address}});
    config = followed;
  }
  if (watch && !watch->running()) {
    B2BUA_LOG(warn, "daemon", "wan_waiting",
              {{"interface", watch->interface()}, {"reason", "the link is down"},
               {"action", "trunks register the moment it comes up"}});
  }

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
    auto describe_live = [&plane, &media](nlohmann::json& status) {
      status::add_relay_totals(status, media->totals());  // the relay outlives plane rebuilds
      if (!plane) return;
      plane->describe(status);
      // The plane's config is the one in force after reloads.
      status::add_configured_view(status, plane->config());
    };
    // The page's voicemail part, run on the SIP thread, where the mailboxes live (with the plane).
    auto mailboxes = [&plane]() -> voicemail::Mailboxes* { return plane ? plane->mailboxes() : nullptr; };
    status::VoicemailActions voicemail;
    voicemail.message_path = [mailboxes, &store](int64_t id) -> std::optional<std::string> {
      auto* boxes = mailboxes();
      auto row = boxes ? store->voice_messages().find(id) : std::nullopt;
      if (!row) return std::nullopt;
      return boxes->path_of(*row);
    };
    voicemail.remove_message = [mailboxes](int64_t id) {
      auto* boxes = mailboxes();
      return boxes && boxes->remove(id);
    };
    status_endpoint = status::start_status_endpoint(*config, sip, describe_live, *store, std::move(voicemail));
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

  bool address_settling = false;

  while (exit_code == 0) {
    pollfd fds[2] = {{signal_fd, POLLIN, 0}, {watch ? watch->fd() : -1, POLLIN, 0}};
    // An ISP reconnect removes the old address before the new one comes: act once it settles.
    int timeout_ms = address_settling ? 700 : rebuild_failed ? 2000 : -1;
    int ready = ::poll(fds, 2, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      address_settling = false;
      auto next = follow_interface(config);
      if (next != config || rebuild_failed) {
        B2BUA_LOG(warn, "daemon", "wan_address_changed",
                  {{"interface", watch->interface()}, {"from", config->wan.address}, {"to", next->wan.address}});
        config = next;
        rebuild(config);
      }
      continue;
    }
    if (fds[1].revents & POLLIN) {
      auto changes = watch->drain();
      if (changes.address) address_settling = true;
      if (changes.usable && !changes.address) {
        // The way out is back (link up, default route): trunks waiting in their backoff try now.
        B2BUA_LOG(info, "daemon", "wan_usable", {{"interface", watch->interface()}, {"action", "registering trunks now"}});
        sip.post([&plane] {
          if (plane) plane->network_usable();
        });
      }
    }
    if (!(fds[0].revents & POLLIN)) continue;
    signalfd_siginfo info{};
    if (::read(signal_fd, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) continue;
    int sig = static_cast<int>(info.ssi_signo);
    if (sig == SIGHUP) {
      notify_service_manager("RELOADING=1");
      auto next = config::load_config_file(config_path);
      log_load_problems(next, config_path);
      if (!next.ok()) {
        B2BUA_LOG(error, "daemon", "reload_rejected", {{"errors", next.errors.size()}, {"kept", "running config"}});
      } else {
        auto effective = follow_interface(next.config);
        warn_restart_keys(*config, *effective);
        log::set_level(to_log_level(effective->log.level));
        media->apply(media_settings(*effective));
        config = effective;
        status_endpoint->set_token(config->status.token);
        sip.post([&plane, cfg = config] {
          if (plane) plane->apply_config(cfg);
        });
      }
      notify_service_manager("READY=1");
      continue;
    }
    if (sig == SIGTERM || sig == SIGINT) {
      B2BUA_LOG(info, "daemon", "stopping", {{"signal", sig == SIGTERM ? "TERM" : "INT"}});
      break;
    }
  }
  if (signal_fd >= 0) ::close(signal_fd);

  if (status_endpoint) status_endpoint->stop();
  notify_service_manager("STOPPING=1");
  sip.post([&] {
    if (!plane) return sip.stop_loop();
    plane->shutdown(SignallingPlane::kStopBoundMs, [&] { sip.stop_loop(); });
  });
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
