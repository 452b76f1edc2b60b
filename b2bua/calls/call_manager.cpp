// The calls feature's lifetime: it takes INVITEs and INFO on the agents, keeps the calls, hands
// relay events (media timeout, released sessions with their counters) to the call they belong
// to, releases a finished call's relay sessions and destroys the call once its record is
// written, and hangs every call up on shutdown.
#include "b2bua/calls/call_manager.h"

#include <utility>

#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"

namespace b2bua::calls {

CallManager::CallManager(const plane::PlaneContext& context, config::Snapshot config, registrar::Phones& phones,
                         const trunk::TrunkRoutes* trunks)
    : context_(context),
      config_(std::move(config)),
      phones_(phones),
      trunks_(trunks),
      auth_(registrar::digest_settings(*config_)),
      reaper_(context.root),
      stats_bound_(context.root),
      shutdown_bound_(context.root),
      settings_(context.store) {
  // WAN INVITEs arrive through the trunk gate (on_trunk_invite), never directly.
  context_.lan->on_request(nua_i_invite, [this](const sip::NuaEvent& ev) { on_lan_invite(ev); });
  // In-dialog SIP INFO (dtmf-relay, RFC 6086) is relayed between the legs; nua answers 405 to
  // a method missing from Allow, and auto-answers 200 to an allowed non-application method
  // even outside a dialog. As an application method, the legs answer it and stray INFO gets
  // the agent's default answer. UPDATE is ours to answer too (call_update.cpp): nua alone
  // answers an offer 200 without SDP.
  for (sip::SipAgent* agent : {context_.lan, context_.wan}) {
    if (agent) {
      nua_set_params(agent->nua(), NUTAG_ALLOW("INFO"), NUTAG_APPL_METHOD("INFO"), NUTAG_APPL_METHOD("UPDATE"), TAG_END());
    }
  }
  // Records past the configured count or age go at start, then every hundred records.
  if (context_.store) prune_records();
  setup_voicemail();
}

CallManager::~CallManager() {
  confirmations_.clear();
  dead_confirmations_.clear();
  calls_.clear();
  pending_.clear();
  dead_.clear();
}

void CallManager::apply_config(const config::Config&, config::Snapshot now) {
  // Calls in progress keep the config they started with; new calls use the new one.
  config_ = std::move(now);
  auth_.update(registrar::digest_settings(*config_));
  setup_voicemail();
  // Reloading is how the admin lifts a block at once (after changing a password, say).
  if (size_t lifted = outbound_limits_.reset(clock::unix_s())) {
    B2BUA_LOG(info, "calls", "extension_blocks_lifted", {{"extensions", lifted}, {"by", "reload"}});
  }
}

Call& CallManager::create(Direction direction, const sip::NuaEvent& ev, sip::SipAgent& a_agent,
                          const std::string& a_sdp_addr) {
  uint64_t id = next_id_++;
  auto call = std::make_unique<Call>(*this, id, direction, config_);
  call->a = std::make_unique<Leg>(*call, true, a_agent, ev.nh, a_sdp_addr);
  const std::string& lan_ip = config_->lan.listen.front().host;
  call->a_bind_ip = direction == Direction::inbound ? config_->wan.address : lan_ip;
  call->b_bind_ip = direction == Direction::outbound ? config_->wan.address : lan_ip;
  Call& ref = *call;
  calls_.emplace(id, std::move(call));
  return ref;
}

void CallManager::call_finished(Call& call) {
  const CallRecord& r = call.record;
  ++final_codes_[r.final_code];
  B2BUA_LOG(info, "calls", "call_ended",
            {{"call", call.id}, {"direction", direction_name(r.direction)}, {"extension", r.extension},
             {"trunk", r.trunk}, {"code", r.final_code}, {"by", r.hangup_by},
             {"duration_ms", r.answer_ms ? r.end_ms - r.answer_ms : 0}});
  auto it = calls_.find(call.id);
  if (it == calls_.end()) return;
  std::unique_ptr<Call> owned = std::move(it->second);
  calls_.erase(it);
  size_t sessions = 0;
  for (const auto& s : owned->streams) {
    if (!s) continue;
    ++sessions;
    context_.media->release(s->id);
  }
  if (sessions == 0) {
    write_record(*owned, nullptr);
    dead_.push_back(std::move(owned));
  } else {
    uint64_t id = owned->id;
    pending_.emplace(id, Pending{std::move(owned), sessions, {}});
    // The relay answers a release within milliseconds; a record is never held back longer.
    if (!stats_bound_.armed()) {
      stats_bound_.start(2000, [this] {
        for (auto& [pid, p] : pending_) {
          write_record(*p.call, nullptr);
          dead_.push_back(std::move(p.call));
        }
        pending_.clear();
        reap();
      });
    }
  }
  reap();
}

void CallManager::reap() {
  // Calls end inside their own legs' callbacks; they are destroyed on the next turn of the loop.
  if (!dead_.empty() || !dead_confirmations_.empty()) {
    reaper_.start(0, [this] {
      dead_.clear();
      dead_confirmations_.clear();
    });
  }
  if (shutdown_done_ && calls_.empty() && pending_.empty() && (!mwi_ || mwi_->stopped())) {
    shutdown_bound_.cancel();
    std::exchange(shutdown_done_, nullptr)();
  }
}

void CallManager::on_latched(media::SessionId id, int leg, const media::Endpoint& peer) {
  auto s = by_session_.find(id);
  if (s == by_session_.end()) return;
  auto c = calls_.find(s->second);
  if (c != calls_.end() && !c->second->finished()) c->second->on_latched(id, leg, peer);
}

void CallManager::on_media_timeout(media::SessionId id) {
  auto s = by_session_.find(id);
  if (s == by_session_.end()) return;
  auto c = calls_.find(s->second);
  if (c != calls_.end() && !c->second->finished()) c->second->on_media_timeout();
}

void CallManager::on_one_way_audio(media::SessionId id, int silent, const std::array<media::LegStats, 2>& stats) {
  auto s = by_session_.find(id);
  if (s == by_session_.end()) return;
  auto c = calls_.find(s->second);
  if (c == calls_.end() || c->second->finished()) return;
  if (const char* network = c->second->on_one_way_audio(id, silent, stats)) ++one_way_calls_[network];
}

void CallManager::on_released(media::SessionId id, const std::array<media::LegStats, 2>& stats) {
  auto s = by_session_.find(id);
  if (s == by_session_.end()) return;
  uint64_t call_id = s->second;
  by_session_.erase(s);
  auto p = pending_.find(call_id);
  if (p == pending_.end()) return;
  for (size_t leg = 0; leg < 2; ++leg) p->second.stats[leg].add(stats[leg]);
  if (--p->second.sessions_left == 0) {
    write_record(*p->second.call, &p->second.stats);
    dead_.push_back(std::move(p->second.call));
    pending_.erase(p);
    reap();
  }
}

void CallManager::shutdown(std::function<void()> done) {
  shutdown_done_ = std::move(done);
  for (auto& [id, call] : calls_) {
    if (!call->finished()) call->hang_up(503, "Service Unavailable", "system");
  }
  // A far end that does not answer its BYE (or CANCEL) in time is given up, and the legs'
  // handles destroyed, before the SIP stacks' shutdown, which would otherwise wait for those
  // transactions and ignore a later destroy (plane::kShutdownExchangeMs).
  shutdown_bound_.start(plane::kShutdownExchangeMs, [this] {
    std::vector<Call*> waiting;
    for (auto& [id, call] : calls_) {
      if (!call->finished()) waiting.push_back(call.get());
    }
    for (Call* call : waiting) call->give_up("shutdown");
    reap();
  });
  // Message waiting's dialogs end the same way, within the same time.
  if (mwi_) {
    mwi_->shutdown(plane::kShutdownExchangeMs, [this] { reap(); });
  }
  reap();
}

}  // namespace b2bua::calls
