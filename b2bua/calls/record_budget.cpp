#include "b2bua/calls/record_budget.h"

#include <algorithm>

namespace b2bua::calls {

RecordBudget::Take RecordBudget::take(int64_t now_ms) {
  if (last_ms_ >= 0 && now_ms > last_ms_) {
    tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ms - last_ms_) / 1000.0 * per_second_);
  }
  last_ms_ = std::max(last_ms_, now_ms);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    bool ended = suppressing_;
    suppressing_ = false;
    return ended ? Take::granted_again : Take::granted;
  }
  ++suppressed_;
  bool started = !suppressing_;
  suppressing_ = true;
  return started ? Take::first_suppressed : Take::suppressed;
}

}  // namespace b2bua::calls
