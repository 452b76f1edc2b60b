#include "media/voice_player.h"

#include <algorithm>
#include <cstring>

#include "media/g711_codec.h"

namespace b2bua::media {

namespace {
constexpr TimeNs kNsPerSample = kNsPerSec / 8000;  // 125 µs: 20 ms is exactly 160 samples
}

VoicePlayer::VoicePlayer(uint32_t ssrc, uint16_t first_seq, uint32_t first_timestamp, TimeNs origin)
    : ssrc_(ssrc), seq_(first_seq), first_timestamp_(first_timestamp), origin_(origin) {}

void VoicePlayer::enqueue(AudioPtr audio, uint32_t tag) { queue_.push_back({std::move(audio), tag, 0}); }

TimeNs VoicePlayer::next_due(TimeNs now) const {
  if (idle()) return kNever;
  if (talking_) return next_slot_;
  // A new spurt starts now, but never inside the slot of the last packet sent: its samples
  // would overlap the previous packet's timestamps.
  return sent_any_ ? std::max(now, next_slot_) : now;
}

size_t VoicePlayer::next_packet(TimeNs now, uint8_t payload_type, uint8_t* out) {
  // Prompts without samples (or whose samples all went out) are done without a packet.
  while (finished_ < queue_.size() && remaining(queue_[finished_]) == 0) ++finished_;
  if (idle()) {
    talking_ = false;
    return 0;
  }
  const TimeNs slot = next_due(now);
  if (slot > now) return 0;
  // RFC 3551 section 4.1: the marker starts a talk spurt, i.e. follows a gap in what was sent;
  // a prompt queued right as the last one ended continues the spurt.
  const bool marker = !talking_ && (!sent_any_ || slot > next_slot_);

  size_t filled = 0;
  for (size_t i = finished_; i < queue_.size() && filled < kSamplesPerPacket; ++i) {
    Prompt& p = queue_[i];
    const size_t n = std::min(remaining(p), kSamplesPerPacket - filled);
    if (n > 0) std::memcpy(pcm_ + filled, p.audio->samples.data() + p.pos, n * sizeof(int16_t));
    p.pos += n;
    filled += n;
    if (remaining(p) == 0 && i == finished_) ++finished_;
  }
  // The end of the last prompt is padded with silence: a packet is always 20 ms.
  std::fill(pcm_ + filled, pcm_ + kSamplesPerPacket, int16_t{0});
  while (finished_ < queue_.size() && remaining(queue_[finished_]) == 0) ++finished_;

  const uint32_t timestamp = first_timestamp_ + static_cast<uint32_t>((slot - origin_) / kNsPerSample);
  const uint16_t seq = seq_++;
  out[0] = 0x80;  // RFC 3550 version 2, no padding, extension or CSRC
  out[1] = static_cast<uint8_t>((marker ? 0x80 : 0) | (payload_type & 0x7f));
  out[2] = static_cast<uint8_t>(seq >> 8);
  out[3] = static_cast<uint8_t>(seq);
  for (size_t i = 0; i < 4; ++i) {
    out[4 + i] = static_cast<uint8_t>(timestamp >> (24 - 8 * i));
    out[8 + i] = static_cast<uint8_t>(ssrc_ >> (24 - 8 * i));
  }
  g711_encode(payload_type, pcm_, kSamplesPerPacket, out + 12);

  sent_any_ = true;
  next_slot_ = slot + kPacketTime;
  talking_ = !idle();
  return kMaxPacket;
}

}  // namespace b2bua::media
