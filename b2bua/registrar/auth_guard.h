// Brute-force guard: failed authentications are counted per source address within a window;
// reaching the limit blocks the address for a while. The caller logs once per block (the
// return value of record_failure says when), never per packet, so a flood cannot flood the log.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace b2bua::registrar {

struct GuardSettings {
  int failures = 5;     // failures within `window_s` that start a block
  int window_s = 60;
  int duration_s = 600; // 0 disables blocking
  size_t max_sources = 4096;  // bound on tracked addresses (oldest-window entries dropped)
};

class AuthGuard {
 public:
  explicit AuthGuard(GuardSettings settings) : settings_(settings) {}
  void update(const GuardSettings& settings) { settings_ = settings; }

  bool blocked(const std::string& source, int64_t now) const;
  // True when this failure started a block.
  bool record_failure(const std::string& source, int64_t now);
  void record_success(const std::string& source) { entries_.erase(source); }
  size_t tracked() const { return entries_.size(); }
  size_t blocked_count(int64_t now) const;

 private:
  struct Entry {
    int64_t window_start = 0;
    int count = 0;
    int64_t blocked_until = 0;
  };
  void prune(int64_t now);

  GuardSettings settings_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace b2bua::registrar
