// Pool of RTP/RTCP port pairs: RTP on an even port, RTCP on the next odd one (RFC 3550 §11).
// A released pair goes to the back of a FIFO and is handed out again only after a quarantine, so
// late packets of a finished call never reach the next call using the same ports.
// Thread-safe: allocate() runs on the signalling thread, release() on media workers.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <set>

#include "media/clock.h"

namespace b2bua::media {

class PortPool {
 public:
  PortPool(uint16_t port_min, uint16_t port_max, TimeNs quarantine);

  // The even RTP port of a free pair, or nothing when every pair is in use or in quarantine.
  std::optional<uint16_t> allocate(TimeNs now);
  // The pair is back after the quarantine. Ports outside the current range are forgotten.
  void release(uint16_t rtp_port, TimeNs now);
  // New range and quarantine (config reload); pairs in use stay valid until released.
  void reconfigure(uint16_t port_min, uint16_t port_max, TimeNs quarantine);

  size_t capacity() const;
  size_t in_use() const;
  uint16_t port_min() const;
  uint16_t port_max() const;

 private:
  struct FreePair {
    uint16_t rtp_port;
    TimeNs available_at;
  };
  bool in_range(uint16_t rtp_port) const;

  mutable std::mutex mutex_;
  uint16_t min_ = 0;
  uint16_t max_ = 0;
  TimeNs quarantine_ = 0;
  std::deque<FreePair> free_;
  std::set<uint16_t> in_use_;
};

}  // namespace b2bua::media
