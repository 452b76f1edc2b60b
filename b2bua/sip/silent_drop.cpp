#include "b2bua/sip/silent_drop.h"

namespace b2bua::sip {

void SilentDrop::hold(nua_handle_t* nh, int64_t now) {
  if (held_.size() >= kMaxHeld) {
    nua_handle_destroy(held_.front().second);
    held_.pop_front();
  }
  held_.emplace_back(now, nh);
}

void SilentDrop::expire(int64_t now) {
  while (!held_.empty() && now - held_.front().first >= kHoldSeconds) {
    nua_handle_destroy(held_.front().second);
    held_.pop_front();
  }
}

void SilentDrop::release_all() {
  for (auto& [since, nh] : held_) nua_handle_destroy(nh);
  held_.clear();
}

}  // namespace b2bua::sip
