#include "media/voice_recorder.h"

#include <algorithm>
#include <cstdlib>

namespace b2bua::media {

namespace {
constexpr size_t kSamplesPerMs = 8;
constexpr TimeNs kNsPerSample = kNsPerSec / 8000;
// A timestamp jump larger than this is not a gap in one stream but a new one (the peer
// restarted its stream): nothing is filled in.
constexpr uint32_t kMaxGapSamples = 10 * 8000;

size_t ms_samples(int ms) { return ms > 0 ? static_cast<size_t>(ms) * kSamplesPerMs : 0; }
}  // namespace

void VoiceRecorder::start(const RecordSpec& spec, TimeNs now) {
  spec_ = spec;
  max_samples_ = ms_samples(spec.max_ms);
  samples_.clear();
  samples_.reserve(max_samples_);
  active_ = true;
  heard_ = false;
  silent_run_ = 0;
  have_timestamp_ = false;
  last_input_ = now;
}

void VoiceRecorder::append_silence(size_t count) {
  count = std::min(count, max_samples_ - samples_.size());
  samples_.insert(samples_.end(), count, int16_t{0});  // within the reserved capacity
  silent_run_ += count;
}

std::optional<Recording::End> VoiceRecorder::on_audio(uint32_t timestamp, const int16_t* samples, size_t count,
                                                      TimeNs now) {
  if (!active_) return std::nullopt;
  last_input_ = now;
  if (have_timestamp_) {
    const uint32_t gap = timestamp - next_timestamp_;  // modulo 2^32: RFC 3550 timestamps wrap
    if (gap != 0 && gap < kMaxGapSamples) append_silence(gap);
  }
  have_timestamp_ = true;
  next_timestamp_ = timestamp + static_cast<uint32_t>(count);

  const size_t n = std::min(count, max_samples_ - samples_.size());
  long sum = 0;
  for (size_t i = 0; i < n; ++i) sum += std::abs(samples[i]);
  samples_.insert(samples_.end(), samples, samples + n);
  if (n > 0) {
    if (sum < static_cast<long>(kSilenceLevel) * static_cast<long>(n)) {
      silent_run_ += n;
    } else {
      silent_run_ = 0;
      heard_ = true;
    }
  }
  return check(0);
}

std::optional<Recording::End> VoiceRecorder::on_comfort_noise(uint32_t timestamp, TimeNs now) {
  if (!active_) return std::nullopt;
  last_input_ = now;
  if (have_timestamp_) {
    const uint32_t gap = timestamp - next_timestamp_;
    if (gap != 0 && gap < kMaxGapSamples) append_silence(gap);
  }
  // The noise lasts until the next packet: that one's timestamp fills the gap.
  have_timestamp_ = true;
  next_timestamp_ = timestamp;
  return check(0);
}

std::optional<Recording::End> VoiceRecorder::on_tick(TimeNs now) {
  if (!active_) return std::nullopt;
  const TimeNs idle = now - last_input_;
  return check(idle > kNoPacketGrace ? static_cast<size_t>(idle / kNsPerSample) : 0);
}

std::optional<Recording::End> VoiceRecorder::check(size_t idle_samples) const {
  if (samples_.size() + idle_samples >= max_samples_) return Recording::End::max_length;
  if (heard_ && spec_.silence_ms > 0 && silent_run_ + idle_samples >= ms_samples(spec_.silence_ms)) {
    return Recording::End::silence;
  }
  if (!heard_ && spec_.initial_silence_ms > 0 &&
      samples_.size() + idle_samples >= ms_samples(spec_.initial_silence_ms)) {
    return Recording::End::silence;
  }
  return std::nullopt;
}

Recording VoiceRecorder::finish(Recording::End end) {
  Recording r;
  r.end = end;
  if (end == Recording::End::silence) samples_.resize(samples_.size() - silent_run_);
  r.samples = std::move(samples_);
  samples_ = {};
  active_ = false;
  return r;
}

}  // namespace b2bua::media
