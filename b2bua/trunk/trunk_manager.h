// All trunks of the WAN side: their registrations, config reload, and the gate every request
// arriving on the WAN agent passes.
//
// Which trunk is an inbound request for? First the registration token: we register each trunk
// with a Contact user part of its own, and providers send calls to the registered Contact, so
// the Request-URI names the trunk. Then the source address (its resolved servers, the flow we
// registered through, its allowed_sources), since providers share addresses and change DNS,
// address matching alone would mix trunks up. A request from anywhere else is answered 403
// and counted: the WAN port is on the internet and scanners call it all day.
//
// Other features plug in behind the gate: on_inbound(nua_i_invite, ...) receives only requests
// already matched to a trunk. Everything here runs on the SIP thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "b2bua/plane/feature.h"
#include "b2bua/sip/silent_drop.h"
#include "b2bua/sip/timer.h"
#include "b2bua/trunk/server_resolver.h"
#include "b2bua/trunk/trunk_registration.h"
#include "b2bua/trunk/trunk_routes.h"
#include "b2bua/trunk/trunk_state.h"

namespace b2bua::trunk {

// How a request was matched to a trunk.
enum class MatchedBy { token, source };

struct InboundMatch {
  const TrunkRegistration* trunk = nullptr;
  MatchedBy by = MatchedBy::source;
};

// Pure matching, so it can be tested without sockets. `request_user` is the Request-URI user.
struct TrunkAddresses {
  std::string name;
  std::string token;
  std::vector<HostPort> servers;
  std::vector<config::Network> allowed_sources;
  std::vector<std::string> numbers;
  std::string username;
};
// Index into `trunks`, or -1. Token first (and then the source must still be one of that
// trunk's), else the trunks whose servers or ranges contain the source, preferring the one
// whose numbers or username equal `request_user` / `to_user`.
int match_inbound(const std::vector<TrunkAddresses>& trunks, const std::string& request_user, const std::string& to_user,
                  const std::string& source_ip, bool* by_token);

class TrunkManager final : public plane::Feature, public TrunkRoutes {
 public:
  using InboundHandler = std::function<void(const sip::NuaEvent&, const TrunkRegistration&)>;

  TrunkManager(const plane::PlaneContext& context, config::Snapshot config);
  ~TrunkManager() override;

  const char* name() const override { return "trunks"; }
  void apply_config(const config::Config& before, config::Snapshot now) override;
  void shutdown(std::function<void()> done) override;
  // status["trunks"]: one object per trunk (TrunkSnapshot; no secrets).
  void describe(nlohmann::json& status) const override;

  const TrunkRegistration* find(const std::string& name) const;
  std::optional<TrunkRoute> route(const config::Trunk& trunk) const override;
  // The trunk a request on the WAN agent belongs to (call inside the nua callback: the source
  // address is read from the current request), or nullopt when no trunk may send it.
  std::optional<InboundMatch> identify(const sip::NuaEvent& ev) const;
  std::vector<TrunkSnapshot> snapshots() const;
  uint64_t rejected_requests() const { return rejected_; }

  // The WAN link came up or a default route appeared: trunks waiting to retry try now.
  void network_usable();

  // Requests of `event` that passed the gate go to `handler` (replacing the previous one).
  // Without a handler, OPTIONS is answered 200 and anything else 480.
  void on_inbound(nua_event_t event, InboundHandler handler);

 private:
  // `trunk` is one of config_->trunks.
  void start_trunk(const config::Trunk& trunk);
  void set_stream_keepalive(const config::Config& config);
  void stop_trunk(const std::string& name, std::function<void()> done);
  void gate(const sip::NuaEvent& ev);
  void drop(nua_handle_t* nh);
  void purge_finished();
  // wan.strangers "drop": only the servers of our trunks (running and unregistering) and their
  // allowed_sources reach the WAN agent at all (sip/source_filter.h). Runs whenever those change.
  void refresh_source_filter();
  void watch_filtered();

  plane::PlaneContext context_;
  config::Snapshot config_;
  ServerResolver resolver_;
  sip::Timer tls_failure_;  // hands a TLS failure from inside the transport to the trunks
  sip::SilentDrop dropped_;  // strangers' requests, unanswered (wan.strangers "drop")
  sip::Timer drop_expiry_;   // runs only while some are held
  std::map<std::string, std::unique_ptr<TrunkRegistration>> trunks_;
  std::vector<std::unique_ptr<TrunkRegistration>> retiring_;  // unregistering after a reload
  std::vector<TrunkRegistration*> finished_;                  // of those, the ones done
  std::map<nua_event_t, InboundHandler> inbound_;
  uint64_t rejected_ = 0;
  struct FilteredSources {
    std::vector<config::Network> datagram, stream;
    bool operator==(const FilteredSources&) const = default;
  };
  std::optional<FilteredSources> filtered_;  // what the filter lets in, per socket type
  sip::Timer filter_watch_;                                // logs what the filter drops
  uint64_t filter_dropped_logged_ = 0;
  int64_t filter_logged_at_ = 0;
};

}  // namespace b2bua::trunk
