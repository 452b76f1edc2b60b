// Password-guessing guard, shared by REGISTER and INVITE. Two rules:
//
//  - Per source address: failures within `window_s` add up over every user name tried; reaching
//    `failures` blocks the address for `duration_s`. A success for user E from address S forgets
//    only the failures S had for E (a phone that mistyped its own password is forgiven); the
//    failures S had for other users still count, so a known password between guesses does not
//    reset them.
//  - Per extension: `lock_failures` failures within `lock_window_s` from at least `lock_sources`
//    addresses (a guess spread over many addresses, each staying under the first rule) lock the
//    extension for `lock_duration_s`. A success never clears these: the phone's own refreshes
//    would launder the guesses. What a lock refuses is the caller's decision (registrar.h).
//
// Both tables are bounded and forget the entry that failed least recently first, so filling
// the table only pushes out the attacker's own oldest entries. Every operation is O(1) on
// average; record_* report when a block or a lock starts, so the caller logs once per block,
// never per packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace b2bua::registrar {

struct GuardSettings {
  int failures = 5;     // failures from one address within `window_s` that start a block
  int window_s = 60;
  int duration_s = 600; // 0 disables blocking
  int lock_failures = 20;    // failures for one extension within `lock_window_s` ...
  int lock_sources = 3;      // ... from at least this many addresses lock it
  int lock_window_s = 600;
  int lock_duration_s = 900; // 0 disables locking
  size_t max_sources = 4096;    // tracked addresses
  size_t max_extensions = 1024; // tracked extensions
};

// A lock as the admin sees it: since when, until when, and what started it.
struct ExtensionLock {
  std::string extension;
  int64_t since = 0;
  int64_t until = 0;
  size_t sources = 0;   // distinct addresses among the failures that started it
  size_t failures = 0;
};

// A string-keyed map of at most `capacity` entries; adding to a full one forgets the entry
// touched least recently.
template <class Value>
class RecentMap {
 public:
  explicit RecentMap(size_t capacity) : capacity_(capacity) {}
  RecentMap(const RecentMap&) = delete;
  RecentMap& operator=(const RecentMap&) = delete;

  void set_capacity(size_t capacity) {
    capacity_ = capacity;
    while (index_.size() > capacity_) pop_oldest();
  }
  const Value* find(std::string_view key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &it->second->second;
  }
  // Without touching: looking at an entry does not keep it.
  Value* find(std::string_view key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &it->second->second;
  }
  // The entry for `key`, created if new, now the most recently touched.
  Value& touch(const std::string& key) {
    if (auto it = index_.find(key); it != index_.end()) {
      order_.splice(order_.end(), order_, it->second);
      return it->second->second;
    }
    while (!index_.empty() && index_.size() >= capacity_) pop_oldest();
    order_.emplace_back(key, Value{});
    index_.emplace(order_.back().first, std::prev(order_.end()));
    return order_.back().second;
  }
  void erase(std::string_view key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    auto node = it->second;
    index_.erase(it);
    order_.erase(node);
  }
  // Forgets entries from the least recently touched end while `done(value)` holds for them:
  // what has run its course is dropped without a scan.
  template <class Done>
  void drop_oldest_while(Done done) {
    while (!order_.empty() && done(order_.front().second)) pop_oldest();
  }
  template <class Fn>
  void for_each(Fn fn) const {
    for (const auto& [key, value] : order_) fn(key, value);
  }
  size_t size() const { return index_.size(); }

 private:
  void pop_oldest() {
    index_.erase(order_.front().first);
    order_.pop_front();
  }

  size_t capacity_;
  std::list<std::pair<std::string, Value>> order_;  // least recently touched first
  // Keys view the strings in `order_`, whose nodes never move.
  std::unordered_map<std::string_view, typename std::list<std::pair<std::string, Value>>::iterator> index_;
};

class AuthGuard {
 public:
  explicit AuthGuard(GuardSettings settings);
  void update(const GuardSettings& settings);

  struct Outcome {
    bool source_blocked = false;                  // this failure started a block of the address
    std::optional<ExtensionLock> extension_locked;  // ... or a lock of the extension
  };
  // A failed authentication from `source` as `user`. `lockable`: `user` is a configured
  // extension (unknown names are not tracked per extension: spraying them must not push real
  // extensions out of the table).
  Outcome record_failure(const std::string& source, const std::string& user, bool lockable, int64_t now);
  void record_success(const std::string& source, const std::string& user, int64_t now);

  bool blocked(const std::string& source, int64_t now) const;
  bool locked(const std::string& user, int64_t now) const;

  size_t tracked_sources() const { return sources_.size(); }
  size_t tracked_extensions() const { return extensions_.size(); }
  size_t blocked_count(int64_t now) const;
  std::vector<ExtensionLock> locks(int64_t now) const;

 private:
  struct Source {
    int64_t window_start = 0;
    int64_t blocked_until = 0;
    int total = 0;  // failures in the window, the sum of `by_user`
    // At most `failures` names: reaching that many failures blocks the address.
    std::vector<std::pair<std::string, int>> by_user;
  };
  struct Extension {
    // The newest failures within the lock window (time, address), at most `lock_failures`.
    std::deque<std::pair<int64_t, std::string>> recent;
    std::unordered_map<std::string, int> per_source;  // how many of `recent` each address has
    ExtensionLock lock;
  };
  bool source_idle(const Source& s, int64_t now) const;
  bool extension_idle(const Extension& e, int64_t now) const;
  void forget_oldest_failure(Extension& e);
  std::optional<ExtensionLock> count_for_extension(const std::string& user, const std::string& source, int64_t now);

  GuardSettings settings_;
  RecentMap<Source> sources_;
  RecentMap<Extension> extensions_;
};

}  // namespace b2bua::registrar
