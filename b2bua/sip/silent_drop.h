// Dropping a request without any answer (lan.outside "drop", blocked sources on the LAN;
// wan.strangers "drop" on the WAN): a scanner learns nothing and gets no amplification.
//
// sofia cannot discard a server transaction silently: destroying an unanswered handle makes
// nta send "500 Internal Server Error". So the handle is held, unanswered, until the client
// has given up (its timer F, 64*T1 = 32 s), and only then destroyed; nta absorbs the client's
// retransmissions meanwhile. The number held is bounded so a flood cannot grow our memory:
// past the bound the oldest is let go early.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>

#include "b2bua/sip/sofia.h"

namespace b2bua::sip {

class SilentDrop {
 public:
  static constexpr int64_t kHoldSeconds = 32;
  static constexpr size_t kMaxHeld = 1024;

  SilentDrop() = default;
  ~SilentDrop() { release_all(); }
  SilentDrop(const SilentDrop&) = delete;
  SilentDrop& operator=(const SilentDrop&) = delete;

  void hold(nua_handle_t* nh, int64_t now);
  void expire(int64_t now);
  void release_all();
  size_t held() const { return held_.size(); }

 private:
  std::deque<std::pair<int64_t, nua_handle_t*>> held_;
};

}  // namespace b2bua::sip
