// The recording half of a voice session: what the peer says, decoded to 8 kHz linear PCM, into
// a buffer reserved when the recording starts (no allocation per packet), until it is long
// enough, the peer went silent, or it is stopped. Pure logic over decoded frames and times.
//
// No jitter buffer: frames are appended in arrival order. When the RTP timestamp jumps forward
// (lost packets, or a peer that suppresses silence, RFC 3551 section 4.1), the gap is filled
// with silence, so the recording keeps the message's timing. When no packet comes at all, the
// time without packets counts as silence too (on_tick()), so a peer that sends nothing still
// ends a recording on silence or length.
//
// Silence: a 20 ms frame whose mean absolute sample is below kSilenceLevel. Comfort noise
// (RFC 3389) is silence by definition.
//
// Threading: the worker thread that owns the session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "media/clock.h"
#include "media/media_plane.h"

namespace b2bua::media {

class VoiceRecorder {
 public:
  // Mean absolute linear sample of a silent frame: about -45 dBm0 (a full-scale sine of
  // 32767 peak is +3.17 dBm0, G.711; -45 dBm0 is about 130 peak, mean absolute about 2/pi of
  // that). Line noise and a quiet room stay under it, speech does not.
  static constexpr int kSilenceLevel = 100;
  // The time since the last packet starts counting as silence after this: packets of 20 ms come
  // with some jitter.
  static constexpr TimeNs kNoPacketGrace = 100 * kNsPerMs;

  bool active() const { return active_; }
  // Starts a recording: reserves spec.max_ms of samples.
  void start(const RecordSpec& spec, TimeNs now);
  // A decoded frame from a packet with RTP `timestamp`. Returns how the recording ended, if this
  // frame ended it.
  std::optional<Recording::End> on_audio(uint32_t timestamp, const int16_t* samples, size_t count, TimeNs now);
  // A comfort noise packet (RFC 3389): the peer is silent.
  std::optional<Recording::End> on_comfort_noise(uint32_t timestamp, TimeNs now);
  // No packet: does the time since the last one end the recording?
  std::optional<Recording::End> on_tick(TimeNs now);
  // The recording so far, ending for `end` (silence ending it trimmed); the recorder is idle.
  Recording finish(Recording::End end);

 private:
  void append_silence(size_t count);
  std::optional<Recording::End> check(size_t idle_samples) const;

  bool active_ = false;
  RecordSpec spec_;
  size_t max_samples_ = 0;
  std::vector<int16_t> samples_;
  bool heard_ = false;        // something not silent came
  size_t silent_run_ = 0;     // silent samples at the end of samples_
  bool have_timestamp_ = false;
  uint32_t next_timestamp_ = 0;  // the RTP timestamp the next frame should carry
  TimeNs last_input_ = 0;     // the last packet (or the start)
};

}  // namespace b2bua::media
