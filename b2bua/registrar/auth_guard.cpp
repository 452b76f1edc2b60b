#include "b2bua/registrar/auth_guard.h"

#include <algorithm>

namespace b2bua::registrar {

AuthGuard::AuthGuard(GuardSettings settings)
    : settings_(settings), sources_(settings.max_sources), extensions_(settings.max_extensions) {}

void AuthGuard::update(const GuardSettings& settings) {
  settings_ = settings;
  sources_.set_capacity(settings.max_sources);
  extensions_.set_capacity(settings.max_extensions);
}

bool AuthGuard::source_idle(const Source& s, int64_t now) const {
  return s.blocked_until <= now && now - s.window_start >= settings_.window_s;
}

bool AuthGuard::extension_idle(const Extension& e, int64_t now) const {
  return e.lock.until <= now && (e.recent.empty() || now - e.recent.back().first >= settings_.lock_window_s);
}

bool AuthGuard::blocked(const std::string& source, int64_t now) const {
  const Source* s = sources_.find(source);
  return s && s->blocked_until > now;
}

bool AuthGuard::locked(const std::string& user, int64_t now) const {
  const Extension* e = extensions_.find(user);
  return e && e->lock.until > now;
}

size_t AuthGuard::blocked_count(int64_t now) const {
  size_t n = 0;
  sources_.for_each([&](const std::string&, const Source& s) { n += s.blocked_until > now ? 1 : 0; });
  return n;
}

std::vector<ExtensionLock> AuthGuard::locks(int64_t now) const {
  std::vector<ExtensionLock> out;
  extensions_.for_each([&](const std::string&, const Extension& e) {
    if (e.lock.until > now) out.push_back(e.lock);
  });
  std::sort(out.begin(), out.end(), [](const ExtensionLock& a, const ExtensionLock& b) { return a.extension < b.extension; });
  return out;
}

AuthGuard::Outcome AuthGuard::record_failure(const std::string& source, const std::string& user, bool lockable,
                                             int64_t now) {
  Outcome out;
  if (settings_.duration_s > 0) {
    // What has run its course leaves from the old end first; a table still full then forgets
    // its least recently failing address (RecentMap), never the newcomer.
    sources_.drop_oldest_while([&](const Source& s) { return source_idle(s, now); });
    Source& s = sources_.touch(source);
    if (s.blocked_until <= now) {  // a blocked address was logged when the block started
      if (now - s.window_start >= settings_.window_s) {
        s.window_start = now;
        s.total = 0;
        s.by_user.clear();
      }
      auto it = std::find_if(s.by_user.begin(), s.by_user.end(), [&](const auto& u) { return u.first == user; });
      if (it == s.by_user.end()) {
        s.by_user.emplace_back(user, 1);
      } else {
        ++it->second;
      }
      if (++s.total >= settings_.failures) {
        s.blocked_until = now + settings_.duration_s;
        s.window_start = s.blocked_until;
        s.total = 0;
        s.by_user.clear();
        out.source_blocked = true;
      }
    }
  }
  if (lockable && settings_.lock_duration_s > 0) out.extension_locked = count_for_extension(user, source, now);
  return out;
}

void AuthGuard::forget_oldest_failure(Extension& e) {
  auto it = e.per_source.find(e.recent.front().second);
  if (it != e.per_source.end() && --it->second <= 0) e.per_source.erase(it);
  e.recent.pop_front();
}

std::optional<ExtensionLock> AuthGuard::count_for_extension(const std::string& user, const std::string& source,
                                                            int64_t now) {
  extensions_.drop_oldest_while([&](const Extension& e) { return extension_idle(e, now); });
  Extension& e = extensions_.touch(user);
  if (e.lock.until > now) return std::nullopt;  // logged when it started
  // A sliding window: the newest `lock_failures` failures, none older than the window.
  while (!e.recent.empty() && now - e.recent.front().first >= settings_.lock_window_s) forget_oldest_failure(e);
  e.recent.emplace_back(now, source);
  ++e.per_source[source];
  const size_t needed = static_cast<size_t>(std::max(1, settings_.lock_failures));
  while (e.recent.size() > needed) forget_oldest_failure(e);
  if (e.recent.size() < needed || e.per_source.size() < static_cast<size_t>(settings_.lock_sources)) {
    return std::nullopt;
  }
  e.lock = ExtensionLock{user, now, now + settings_.lock_duration_s, e.per_source.size(), e.recent.size()};
  // The next lock needs as many fresh failures again.
  e.recent.clear();
  e.per_source.clear();
  return e.lock;
}

void AuthGuard::record_success(const std::string& source, const std::string& user, int64_t now) {
  Source* s = sources_.find(source);
  if (!s) return;
  auto it = std::find_if(s->by_user.begin(), s->by_user.end(), [&](const auto& u) { return u.first == user; });
  if (it == s->by_user.end()) return;
  s->total -= it->second;
  s->by_user.erase(it);
  if (s->total <= 0 && s->blocked_until <= now) sources_.erase(source);
}

}  // namespace b2bua::registrar
