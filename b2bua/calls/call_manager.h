// The calls feature: admits new INVITEs on both agents (authentication, routing, limits),
// creates the Call with its legs, feeds relay events to calls, and writes a call record when a
// call ends, however it ends.
#pragma once

#include <map>
#include <memory>
#include <unordered_map>

#include "b2bua/calls/call.h"
#include "b2bua/plane/feature.h"
#include "b2bua/registrar/digest_auth.h"
#include "b2bua/registrar/phones.h"
#include "b2bua/trunk/trunk_routes.h"

namespace b2bua::calls {

class CallManager final : public plane::Feature, public media::MediaEvents {
 public:
  // `trunks` is null without a WAN side.
  CallManager(const plane::PlaneContext& context, config::Snapshot config, registrar::Phones& phones,
              const trunk::TrunkRoutes* trunks);
  ~CallManager() override;

  const char* name() const override { return "calls"; }
  void apply_config(const config::Config& before, config::Snapshot now) override;
  void shutdown(std::function<void()> done) override;
  void describe(nlohmann::json& status) const override;

  // Relay events, already on the SIP thread.
  void on_latched(media::SessionId id, int leg, const media::Endpoint& peer) override;
  void on_media_timeout(media::SessionId id) override;
  void on_released(media::SessionId id, const std::array<media::LegStats, 2>& stats) override;

  // An INVITE on the WAN agent that the trunk gate matched to `trunk`.
  void on_trunk_invite(const sip::NuaEvent& ev, const config::Trunk& trunk);

  // For Call.
  // Opens one B leg per reachable contact of `extensions` on the LAN agent; false if none.
  bool fork_to_phones(Call& call, const std::vector<std::string>& extensions, const std::string& from_number,
                      const std::string& from_display);
  const plane::PlaneContext& context() const { return context_; }
  void session_allocated(media::SessionId session, Call& call) { by_session_[session] = call.id; }
  void call_finished(Call& call);
  size_t active_calls() const;
  size_t active_calls_of(const std::string& extension) const;

 private:
  // A call attempt refused before it became a Call; it still gets a call record (failed calls
  // are records too). Only attempts past authentication or the trunk gate are recorded, so a
  // scanner cannot fill the disk.
  struct Attempt {
    Direction direction;
    std::string extension, trunk, number;
  };
  void on_lan_invite(const sip::NuaEvent& ev);
  bool authenticate(const sip::NuaEvent& ev, const std::string& source_ip, const config::Extension*& caller);
  // Rejects (503 global, 486 per extension) and returns true when the call would exceed a limit.
  bool over_limit(const sip::NuaEvent& ev, const config::Extension* caller, const Attempt& attempt);
  // No binding to ring: 480 to the caller and the call ends.
  void nobody_reachable(Call& call, const std::string& target);
  void reject(const sip::NuaEvent& ev, int status, const char* phrase, const char* why,
              const char* extra_header = nullptr, const Attempt* attempt = nullptr);
  Call& create(Direction direction, const sip::NuaEvent& ev, sip::SipAgent& a_agent, const std::string& a_sdp_addr);
  void write_record(Call& call, const std::array<media::LegStats, 2>* stats);
  void reap();

  plane::PlaneContext context_;
  config::Snapshot config_;  // the running one; calls keep theirs
  registrar::Phones& phones_;
  const trunk::TrunkRoutes* trunks_;
  registrar::DigestAuth auth_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Call>> calls_;
  std::unordered_map<media::SessionId, uint64_t> by_session_;
  // Finished calls wait here for their relay counters (on_released) before the record is written.
  struct Pending {
    std::unique_ptr<Call> call;
    size_t sessions_left;
    std::array<media::LegStats, 2> stats{};
  };
  std::map<uint64_t, Pending> pending_;
  std::vector<std::unique_ptr<Call>> dead_;
  sip::Timer reaper_;
  sip::Timer stats_bound_;
  std::function<void()> shutdown_done_;
  std::map<int, uint64_t> final_codes_;  // for metrics
};

}  // namespace b2bua::calls
