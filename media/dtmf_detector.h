// Key presses a voice session's peer makes, heard two ways:
//  - RFC 4733 telephone-event packets: one event per key press, identified by its RTP
//    timestamp (section 2.5.1.2: all packets of an event carry the event's start time). The
//    digit is reported on the first packet seen of an event, so a menu reacts when the key goes
//    down, not when it comes up; the later updates, the end packet and its two retransmissions
//    (section 2.5.1.4) carry the same timestamp and are not reported again. A lost first packet
//    costs nothing: the next one of the event reports it.
//  - In-band tones in the audio (phones and gateways without telephone-event): spandsp's DTMF
//    receiver runs on every decoded audio frame, always, since a peer may offer telephone-event
//    and still send tones. A digit heard both ways within kSameKeyWindow is one key press.
//
// Threading: the worker thread that owns the session. No allocation per packet (the spandsp
// receiver state is allocated once, with the session).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "media/clock.h"

struct dtmf_rx_state_s;  // spandsp's DTMF receiver

namespace b2bua::media {

class DtmfDetector {
 public:
  // A tone detected within this time of an RFC 4733 event of the same digit (or the reverse)
  // is the same key press: tone detection lags the event packet by a few tens of ms.
  static constexpr TimeNs kSameKeyWindow = 200 * kNsPerMs;

  DtmfDetector();

  // An RFC 4733 telephone-event payload of a packet with RTP `timestamp`: the digit, if the
  // packet is the first seen of a new key press (events 0-15 only; others are not keys).
  std::optional<char> on_event(uint32_t timestamp, const uint8_t* payload, size_t len, TimeNs now);
  // Decoded audio (8 kHz): digit(char) for each key press whose tone starts in it.
  template <class Digit>
  void on_audio(const int16_t* samples, size_t count, TimeNs now, Digit&& digit);

 private:
  struct RxFree {
    void operator()(dtmf_rx_state_s* s) const;
  };
  static void heard(void* self, const char* digits, int len);
  void run_receiver(const int16_t* samples, size_t count);
  bool same_press(char digit, char other, TimeNs other_at, TimeNs now) const {
    return digit == other && other_at != 0 && now - other_at < kSameKeyWindow;
  }

  std::unique_ptr<dtmf_rx_state_s, RxFree> rx_;
  bool have_event_ = false;
  uint32_t event_timestamp_ = 0;
  char last_event_digit_ = 0;  // RFC 4733
  TimeNs last_event_at_ = 0;
  char last_tone_digit_ = 0;   // in-band
  TimeNs last_tone_at_ = 0;
  std::array<char, 8> tones_{};  // digits spandsp reported during one run_receiver()
  size_t tone_count_ = 0;
};

template <class Digit>
void DtmfDetector::on_audio(const int16_t* samples, size_t count, TimeNs now, Digit&& digit) {
  run_receiver(samples, count);
  for (size_t i = 0; i < tone_count_; ++i) {
    const char d = tones_[i];
    const bool reported = same_press(d, last_event_digit_, last_event_at_, now);
    last_tone_digit_ = d;
    last_tone_at_ = now;
    if (!reported) digit(d);
  }
  tone_count_ = 0;
}

}  // namespace b2bua::media
