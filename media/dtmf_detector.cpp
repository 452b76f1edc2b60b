#include "media/dtmf_detector.h"

#include <spandsp.h>

#include <new>

namespace b2bua::media {

namespace {
// RFC 4733 section 3.2: events 0-9, *, #, A-D are the DTMF keys.
constexpr char kEventDigits[16] = {'0', '1', '2', '3', '4', '5', '6', '7',
                                   '8', '9', '*', '#', 'A', 'B', 'C', 'D'};
}  // namespace

void DtmfDetector::RxFree::operator()(dtmf_rx_state_s* s) const { dtmf_rx_free(s); }

DtmfDetector::DtmfDetector() : rx_(dtmf_rx_init(nullptr, &DtmfDetector::heard, this)) {
  if (!rx_) throw std::bad_alloc();
}

void DtmfDetector::heard(void* self, const char* digits, int len) {
  auto* d = static_cast<DtmfDetector*>(self);
  for (int i = 0; i < len && d->tone_count_ < d->tones_.size(); ++i) d->tones_[d->tone_count_++] = digits[i];
}

void DtmfDetector::run_receiver(const int16_t* samples, size_t count) {
  dtmf_rx(rx_.get(), samples, static_cast<int>(count));
}

std::optional<char> DtmfDetector::on_event(uint32_t timestamp, const uint8_t* payload, size_t len, TimeNs now) {
  if (len < 4 || payload[0] > 15) return std::nullopt;  // event, E/R/volume, duration (section 2.3)
  if (have_event_ && timestamp == event_timestamp_) return std::nullopt;  // same key press
  have_event_ = true;
  event_timestamp_ = timestamp;
  const char d = kEventDigits[payload[0]];
  const bool reported = same_press(d, last_tone_digit_, last_tone_at_, now);
  last_event_digit_ = d;
  last_event_at_ = now;
  if (reported) return std::nullopt;
  return d;
}

}  // namespace b2bua::media
