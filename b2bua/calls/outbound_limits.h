// The per-extension limits on calls out through trunks (extensions[].limits, limits.cooldown_s):
// how many calls an extension placed in the last hour, and the block that crossing
// calls_per_hour or concurrent_external sets. A block refuses every further call out of that
// extension (emergency calls excepted, which never get here) until limits.cooldown_s passed or
// the config is reloaded; crossing is reported once, the refusals that follow are not.
//
// Threads: the SIP thread (the calls feature).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "b2bua/config/config.h"

namespace b2bua::calls {

class OutboundLimits {
 public:
  struct Verdict {
    enum Kind { ok, crossed, blocked } kind = ok;
    const char* limit = "";  // crossed, blocked: calls_per_hour | concurrent_external
    int value = 0;           // crossed: the limit's value
  };

  // May `ext` place another call out now, with `active` calls out in progress? ok counts the
  // call; crossed is the refusal that sets the block (warn about it), blocked any later one.
  Verdict admit(const config::Extension& ext, size_t active, int cooldown_s, int64_t now_s);
  // Lifts every block and forgets the counts (a reload is the admin's way to lift a block);
  // the number of times each limit was crossed stays, it is a counter since start. Returns how
  // many extensions were blocked.
  size_t reset(int64_t now_s);
  // status["extensions"][...]["limits"] of every extension in `config` (snapshot.h).
  void describe(nlohmann::json& status, const config::Config& config, int64_t now_s) const;

 private:
  struct State {
    std::deque<int64_t> admitted;  // unix seconds of the calls out in the last hour
    bool blocked = false;
    int64_t blocked_until = 0;     // unix seconds; 0: until a reload
    std::string blocked_by;
    bool blocking(int64_t now_s) const { return blocked && (blocked_until == 0 || now_s < blocked_until); }
  };
  // `ext`'s state with calls older than an hour dropped and an expired block lifted.
  State& current(const std::string& ext, int64_t now_s);

  std::map<std::string, State> states_;
  std::map<std::string, std::map<std::string, uint64_t>> hits_;  // extension -> limit -> times crossed
};

}  // namespace b2bua::calls
