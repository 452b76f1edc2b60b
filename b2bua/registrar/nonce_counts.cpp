#include "b2bua/registrar/nonce_counts.h"

#include <algorithm>

namespace b2bua::registrar {

namespace {
constexpr size_t kFirstSlots = 256;  // 8 KiB: a household's phones never need more
}

bool NonceCounts::accept(uint64_t counter, int64_t issued, uint32_t nc, int64_t now, int64_t lifetime_s,
                         size_t max_slots) {
  max_slots = std::max<size_t>(1, max_slots);
  if (slots_.empty()) slots_.resize(std::min(kFirstSlots, max_slots));
  for (;;) {
    Slot& s = slot_of(counter);
    if (s.used && s.counter == counter) {
      if (nc <= s.highest_nc) return false;
      s.highest_nc = nc;
      return true;
    }
    if (s.used && s.counter > counter) return false;
    bool alive = s.used && now - s.issued <= lifetime_s;
    if (alive && slots_.size() < max_slots) {
      grow(max_slots);
      continue;
    }
    s = Slot{counter, issued, nc, true};
    return true;
  }
}

void NonceCounts::grow(size_t max_slots) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(std::min(old.size() * 2, max_slots), Slot{});
  // Doubling keeps every entry in a slot of its own; a cut to `max_slots` may not, and then
  // the higher counter stays (the lower one is refused from then on, by the rule on top).
  for (const Slot& s : old) {
    if (!s.used) continue;
    Slot& to = slot_of(s.counter);
    if (!to.used || to.counter < s.counter) to = s;
  }
}

}  // namespace b2bua::registrar
