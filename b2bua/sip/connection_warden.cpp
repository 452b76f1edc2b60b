#include "b2bua/sip/connection_warden.h"

#include <algorithm>
#include <chrono>

#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"

namespace b2bua::sip {
namespace {

constexpr int64_t kLogEverySeconds = 60;
constexpr size_t kLogMemory = 1024;  // sources remembered for the log's rate limit

}  // namespace

const char* close_reason_name(CloseReason r) {
  switch (r) {
    case CloseReason::silent: return "silent";
    case CloseReason::idle: return "idle";
    case CloseReason::slow_message: return "slow_message";
    case CloseReason::per_source: return "per_source";
    case CloseReason::total: return "total";
  }
  return "?";
}

std::vector<std::pair<size_t, CloseReason>> connections_to_end(const std::vector<StreamConnection>& open,
                                                               const StreamLimits& limits) {
  std::vector<std::pair<size_t, CloseReason>> out;
  std::vector<size_t> kept;
  for (size_t i = 0; i < open.size(); ++i) {
    const auto& c = open[i];
    if (c.bytes_received == 0 && c.quiet_ms >= limits.silent_ms) {
      out.emplace_back(i, CloseReason::silent);
    } else if (limits.idle_ms && c.quiet_ms >= limits.idle_ms) {
      out.emplace_back(i, CloseReason::idle);
    } else if (limits.message_ms && c.unanswered_ms >= limits.message_ms) {
      out.emplace_back(i, CloseReason::slow_message);
    } else {
      kept.push_back(i);
    }
  }
  // The connections that spoke last are the ones a phone is using; the quiet ones go first.
  std::stable_sort(kept.begin(), kept.end(), [&](size_t a, size_t b) { return open[a].quiet_ms < open[b].quiet_ms; });
  std::map<std::string, size_t> per_source;
  std::vector<size_t> within;
  for (size_t i : kept) {
    if (++per_source[open[i].peer] > limits.per_source) out.emplace_back(i, CloseReason::per_source);
    else within.push_back(i);
  }
  for (size_t n = limits.total; n < within.size(); ++n) out.emplace_back(within[n], CloseReason::total);
  return out;
}

ConnectionWarden::ConnectionWarden(su_root_t* root, std::string side, std::vector<LocalAddress> listeners,
                                   StreamLimits limits)
    : side_(std::move(side)), listeners_(std::move(listeners)), limits_(limits), timer_(root) {
  timer_.every(kSweepMs, [this] { sweep(); });
}

void ConnectionWarden::follow(std::vector<StreamConnection>& open, int64_t now_ms) {
  std::map<std::pair<std::string, uint16_t>, Followed> seen;
  for (auto& c : open) {
    auto key = std::make_pair(c.peer, c.peer_port);
    auto it = followed_.find(key);
    Followed f = it == followed_.end() ? Followed{c.bytes_received, c.bytes_sent, 0, 0} : it->second;
    if (c.bytes_sent != f.sent) {
      f = Followed{c.bytes_received, c.bytes_sent, 0, 0};
    } else if (c.bytes_received != f.received) {
      f.received = c.bytes_received;
      if (!f.since_ms) f.since_ms = now_ms;
      f.last_ms = now_ms;
    }
    c.unanswered_ms = f.since_ms ? static_cast<uint32_t>(f.last_ms - f.since_ms) : 0;
    seen.emplace(key, f);
  }
  followed_ = std::move(seen);  // connections gone are forgotten
}

void ConnectionWarden::sweep() {
  auto open = accepted_connections(listeners_);
  follow(open, std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now().time_since_epoch()).count());
  auto ending = connections_to_end(open, limits_);
  int64_t now = clock::unix_s();
  for (const auto& [i, reason] : ending) {
    end_connection(open[i].fd);
    ++counts_.closed[close_reason_name(reason)];
    log_closed(open[i].peer, reason, now);
  }
  counts_.open = open.size() - ending.size();
}

void ConnectionWarden::log_closed(const std::string& source, CloseReason reason, int64_t now_s) {
  auto key = std::make_pair(source, reason);
  auto it = last_logged_.find(key);
  if (it != last_logged_.end() && now_s - it->second < kLogEverySeconds) {
    B2BUA_LOG(debug, "sip", "sip_connection_closed",
              {{"side", side_}, {"source", source}, {"reason", close_reason_name(reason)}});
    return;
  }
  if (last_logged_.size() >= kLogMemory) last_logged_.clear();
  last_logged_[key] = now_s;
  B2BUA_LOG(warn, "sip", "sip_connection_closed",
            {{"side", side_}, {"source", source}, {"reason", close_reason_name(reason)},
             {"closed_total", counts_.closed[close_reason_name(reason)]}});
}

}  // namespace b2bua::sip
