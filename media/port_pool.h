// Pool of RTP/RTCP port pairs: RTP on an even port, RTCP on the next odd one (RFC 3550 §11).
// A released pair waits in a FIFO for a quarantine, so late packets of a finished call never
// reach the next call using the same ports; when nothing else is left the pair that has rested
// longest is handed out before its quarantine ends, since a refused call is worse than a few
// stray packets (the relay latches the new peer anyway). Free pairs are handed out in random order (as RFC
// 6056 asks of ephemeral ports): a scanner on the WAN that saw or guessed one call's ports cannot
// tell where the next call's media will be, nor aim at the bottom of the range to reach a new
// call before its peer does.
// Thread-safe: allocate() runs on the signalling thread, release() on media workers. Each is O(1)
// apart from the set of pairs in use (per call, never per packet).
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "media/clock.h"

namespace b2bua::media {

class PortPool {
 public:
  PortPool(uint16_t port_min, uint16_t port_max, TimeNs quarantine);

  // The even RTP port of a free pair picked at random; the longest resting pair when none is
  // free; nothing when every pair is in use.
  std::optional<uint16_t> allocate(TimeNs now);
  // The pair is back after the quarantine. Ports outside the current range are forgotten.
  void release(uint16_t rtp_port, TimeNs now);
  // New range and quarantine (config reload); pairs in use stay valid until released.
  void reconfigure(uint16_t port_min, uint16_t port_max, TimeNs quarantine);

  size_t capacity() const;
  // Up to `n` RTP ports of free pairs, spread over the free list (for the status's check that
  // no other program holds ports of the range).
  std::vector<uint16_t> free_sample(size_t n) const;
  size_t in_use() const;
  uint16_t port_min() const;
  uint16_t port_max() const;

 private:
  struct Quarantined {
    uint16_t rtp_port;
    TimeNs available_at;
  };
  bool in_range(uint16_t rtp_port) const;

  mutable std::mutex mutex_;
  uint16_t min_ = 0;
  uint16_t max_ = 0;
  TimeNs quarantine_ = 0;
  std::vector<uint16_t> free_;          // ready now, unordered: allocate() picks any index
  std::deque<Quarantined> quarantined_; // oldest release first
  std::set<uint16_t> in_use_;
  std::random_device random_;           // the kernel's CSPRNG: the next pick is not derivable
};

}  // namespace b2bua::media
