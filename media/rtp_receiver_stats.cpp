#include "media/rtp_receiver_stats.h"

namespace b2bua::media {

namespace {
// RFC 3550 A.1 defaults.
constexpr uint16_t kMaxDropout = 3000;
constexpr uint16_t kMaxMisorder = 100;
constexpr uint32_t kSeqMod = 1u << 16;
}  // namespace

uint64_t RtpReceiverStats::lost() const {
  if (!started_) return lost_before_;
  const uint64_t extended_max = uint64_t{cycles_} + max_seq_;
  const uint64_t expected = extended_max - base_seq_ + 1;
  return lost_before_ + (expected > received_ ? expected - received_ : 0);
}

double RtpReceiverStats::jitter_ms(uint32_t clock_rate) const {
  if (clock_rate == 0) return 0;
  return static_cast<double>(jitter_q4_) / 16.0 * 1000.0 / clock_rate;
}

void RtpReceiverStats::restart(uint16_t seq, uint32_t ssrc) {
  lost_before_ = lost();
  started_ = true;
  ssrc_ = ssrc;
  max_seq_ = seq;
  cycles_ = 0;
  base_seq_ = seq;
  bad_seq_ = kSeqMod;
  received_ = 0;
  have_transit_ = false;
}

void RtpReceiverStats::on_packet(uint16_t seq, uint32_t timestamp, uint32_t ssrc, TimeNs arrival,
                                 uint32_t clock_rate) {
  if (!started_ || ssrc != ssrc_) restart(seq, ssrc);

  const auto udelta = static_cast<uint16_t>(seq - max_seq_);
  if (received_ == 0) {
    // first packet of this source
  } else if (udelta == 0) {
    return;  // duplicate: neither received again nor used for jitter
  } else if (udelta < kMaxDropout) {
    if (seq < max_seq_) cycles_ += kSeqMod;
    max_seq_ = seq;
  } else if (udelta <= kSeqMod - kMaxMisorder) {
    // A very large jump: the source restarted its sequence. Two in a row confirm it.
    if (seq == bad_seq_) {
      restart(seq, ssrc);
    } else {
      bad_seq_ = (uint32_t{seq} + 1) & (kSeqMod - 1);
      return;
    }
  } else {
    ++out_of_order_;  // late packet of the recent past
  }
  ++received_;

  // A.8: transit time in timestamp units; its variation smoothed with gain 1/16.
  const int64_t arrival_ts = arrival / 1000 * int64_t{clock_rate} / 1'000'000;
  const int64_t transit = arrival_ts - int64_t{timestamp};
  if (have_transit_) {
    int64_t d = transit - last_transit_;
    if (d < 0) d = -d;
    // Reject absurd differences (timestamp jumps, telephone-event durations) from the average.
    if (d < int64_t{clock_rate} * 10) {
      const auto dq = static_cast<int64_t>(jitter_q4_);
      jitter_q4_ = static_cast<uint64_t>(dq + d - ((dq + 8) >> 4));
    }
  }
  last_transit_ = transit;
  have_transit_ = true;
}

}  // namespace b2bua::media
