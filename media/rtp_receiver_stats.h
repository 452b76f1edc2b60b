// Receiver statistics of one RTP stream: RFC 3550 A.1 sequence accounting (lost, out of order)
// and A.8 interarrival jitter. Constant size, no allocation; updated once per packet.
#pragma once

#include <cstdint>

#include "media/clock.h"

namespace b2bua::media {

class RtpReceiverStats {
 public:
  void on_packet(uint16_t seq, uint32_t timestamp, uint32_t ssrc, TimeNs arrival, uint32_t clock_rate);

  uint64_t lost() const;
  uint64_t out_of_order() const { return out_of_order_; }
  double jitter_ms(uint32_t clock_rate) const;

 private:
  void restart(uint16_t seq, uint32_t ssrc);

  bool started_ = false;
  uint32_t ssrc_ = 0;
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;
  uint32_t base_seq_ = 0;
  uint32_t bad_seq_ = 0x10000;  // RFC 3550 A.1: "so seq == bad_seq is false"
  uint64_t received_ = 0;       // since the last restart
  uint64_t lost_before_ = 0;    // losses of earlier SSRCs / resynchronisations
  uint64_t out_of_order_ = 0;
  // A.8 keeps jitter scaled by 16 in timestamp units to avoid floating point.
  bool have_transit_ = false;
  int64_t last_transit_ = 0;
  uint64_t jitter_q4_ = 0;
};

}  // namespace b2bua::media
