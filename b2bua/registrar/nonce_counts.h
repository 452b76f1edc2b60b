// The highest nonce-count seen per nonce: what digest replay protection needs (RFC 2617
// section 3.2.2, RFC 7616 section 3.4.5). Owned by one DigestAuth, called on the SIP thread only.
//
// Nonces carry a counter that only grows, and phones answer the one they were just given, so
// the counters in use form a moving window. A direct-mapped table indexed by counter modulo
// its size follows that window in one allocation: no node per nonce. Nodes were the problem:
// a call or a REGISTER allocates a few kilobytes that live for a transaction's lifetime and one
// small node that lives for the nonce's (5 minutes); each surviving node pins the page it sits
// on, so after 60 s of 200 calls/s the daemon kept ~40 MB it could not give back.
//
// Rules:
//   - A slot holding a higher counter than the one asked for means that nonce's history may
//     have been overwritten: it is refused (the phone takes a fresh nonce), never reopened.
//   - The table starts small and doubles, up to `max_slots`, when a nonce would overwrite one
//     that is still alive; at the limit the older one goes, as above.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace b2bua::registrar {

class NonceCounts {
 public:
  // True if `nc` is higher than every count seen for the nonce with `counter`, issued at
  // `issued` (seconds), and records it. A nonce older than `lifetime_s` at `now` is dead: its
  // slot is free.
  bool accept(uint64_t counter, int64_t issued, uint32_t nc, int64_t now, int64_t lifetime_s, size_t max_slots);

  size_t slots() const { return slots_.size(); }

 private:
  struct Slot {
    uint64_t counter = 0;
    int64_t issued = 0;
    uint32_t highest_nc = 0;
    bool used = false;
  };
  Slot& slot_of(uint64_t counter) { return slots_[counter % slots_.size()]; }
  void grow(size_t max_slots);

  std::vector<Slot> slots_;
};

}  // namespace b2bua::registrar
