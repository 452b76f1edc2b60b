#include "b2bua/registrar/auth_guard.h"

namespace b2bua::registrar {

bool AuthGuard::blocked(const std::string& source, int64_t now) const {
  auto it = entries_.find(source);
  return it != entries_.end() && it->second.blocked_until > now;
}

size_t AuthGuard::blocked_count(int64_t now) const {
  size_t n = 0;
  for (const auto& [source, e] : entries_) n += e.blocked_until > now ? 1 : 0;
  return n;
}

void AuthGuard::prune(int64_t now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    bool idle = it->second.blocked_until <= now && now - it->second.window_start >= settings_.window_s;
    it = idle ? entries_.erase(it) : std::next(it);
  }
}

bool AuthGuard::record_failure(const std::string& source, int64_t now) {
  if (settings_.duration_s <= 0) return false;
  if (entries_.size() >= settings_.max_sources && !entries_.count(source)) {
    prune(now);
    // Still full of live entries: a spread-out attack. Blocking decisions for new addresses
    // would need memory we refuse to give; the per-address limit still holds for known ones.
    if (entries_.size() >= settings_.max_sources) return false;
  }
  Entry& e = entries_[source];
  if (e.blocked_until > now) return false;  // already blocked, already logged
  if (now - e.window_start >= settings_.window_s) {
    e.window_start = now;
    e.count = 0;
  }
  if (++e.count < settings_.failures) return false;
  e.blocked_until = now + settings_.duration_s;
  e.count = 0;
  e.window_start = e.blocked_until;
  return true;
}

}  // namespace b2bua::registrar
