// The sending half of a voice session: prompts queued by play() leave as 20 ms G.711 RTP
// packets, paced by the worker's monotonic clock. Pure logic: the session asks for the packet
// due now and sends it; tests drive it with chosen times.
//
// RTP (RFC 3550 section 5.1): a random SSRC, sequence number and timestamp origin per session;
// the sequence number counts packets sent, the timestamp follows real time (8 kHz) from the
// session's start, so a pause between prompts advances it as much as the pause lasted and the
// receiver's playout keeps its rhythm. The first packet after a pause has the marker bit (RFC
// 3551 section 4.1: the start of a talk spurt); prompts played back to back form one spurt.
// Nothing is sent while nothing is queued (keep-alives cover the NAT).
//
// Threading: the worker thread that owns the session. enqueue() allocates (a queue node, on the
// command path); next_packet() does not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>

#include "media/clock.h"
#include "media/media_plane.h"

namespace b2bua::media {

class VoicePlayer {
 public:
  static constexpr size_t kSamplesPerPacket = 160;  // 20 ms at 8 kHz (RFC 3551 default ptime)
  static constexpr TimeNs kPacketTime = 20 * kNsPerMs;
  static constexpr size_t kMaxPacket = 12 + kSamplesPerPacket;
  static constexpr TimeNs kNever = std::numeric_limits<TimeNs>::max();

  // `origin`: the time RTP timestamp `first_timestamp` stands for.
  VoicePlayer(uint32_t ssrc, uint16_t first_seq, uint32_t first_timestamp, TimeNs origin);

  void enqueue(AudioPtr audio, uint32_t tag);
  // Drops everything queued and playing; played(tag) for each, oldest first.
  template <class Played>
  void stop(Played&& played);

  bool idle() const { return queue_.size() == finished_; }
  // When the next packet is due, if the player may send from `now` on; kNever when idle.
  TimeNs next_due(TimeNs now) const;
  // The packet due at `now` into `out` (kMaxPacket octets), or 0 when none is due. Call again
  // until it returns 0 to catch up after a late wake-up: each packet keeps its own slot's
  // timestamp. Then report_played().
  size_t next_packet(TimeNs now, uint8_t payload_type, uint8_t* out);
  // played(tag) for each prompt whose last sample has gone out in a packet since last time.
  template <class Played>
  void report_played(Played&& played);

  uint32_t ssrc() const { return ssrc_; }

 private:
  struct Prompt {
    AudioPtr audio;
    uint32_t tag = 0;
    size_t pos = 0;  // next sample to send
  };
  size_t remaining(const Prompt& p) const { return p.audio ? p.audio->samples.size() - p.pos : 0; }

  std::deque<Prompt> queue_;
  size_t finished_ = 0;  // prompts at the front fully sent, not yet reported
  uint32_t ssrc_;
  uint16_t seq_;
  uint32_t first_timestamp_;
  TimeNs origin_;
  bool talking_ = false;   // in a talk spurt: next_slot_ is the next packet's time
  bool sent_any_ = false;
  TimeNs next_slot_ = 0;   // the slot after the last packet sent
  int16_t pcm_[kSamplesPerPacket]{};
};

template <class Played>
void VoicePlayer::stop(Played&& played) {
  for (const Prompt& p : queue_) played(p.tag);
  queue_.clear();
  finished_ = 0;
  talking_ = false;
}

template <class Played>
void VoicePlayer::report_played(Played&& played) {
  for (; finished_ > 0; --finished_) {
    played(queue_.front().tag);
    queue_.pop_front();
  }
}

}  // namespace b2bua::media
