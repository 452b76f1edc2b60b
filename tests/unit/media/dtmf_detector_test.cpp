#include "media/dtmf_detector.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace b2bua::media {
namespace {

constexpr TimeNs kMs = kNsPerMs;

// An RFC 4733 section 2.3 payload: event, E bit, volume 10, duration.
std::vector<uint8_t> event(uint8_t code, bool end, uint16_t duration) {
  return {code, static_cast<uint8_t>((end ? 0x80 : 0) | 10), static_cast<uint8_t>(duration >> 8),
          static_cast<uint8_t>(duration)};
}

// The two tones of a key (ITU-T Q.23) for `ms`, then `gap_ms` of silence, at 8 kHz.
std::vector<int16_t> key_tone(double low, double high, int ms, int gap_ms) {
  std::vector<int16_t> s;
  const double pi = std::acos(-1.0);
  for (int i = 0; i < ms * 8; ++i) {
    const double t = i / 8000.0;
    s.push_back(static_cast<int16_t>(5000 * std::sin(2 * pi * low * t) + 5000 * std::sin(2 * pi * high * t)));
  }
  s.resize(s.size() + static_cast<size_t>(gap_ms) * 8, 0);
  return s;
}

// Feeds `audio` in 20 ms frames from `start`; returns the digits reported.
std::string hear(DtmfDetector& d, const std::vector<int16_t>& audio, TimeNs start) {
  std::string digits;
  for (size_t at = 0; at + 160 <= audio.size(); at += 160) {
    d.on_audio(audio.data() + at, 160, start + static_cast<TimeNs>(at / 160) * 20 * kMs,
               [&](char c) { digits.push_back(c); });
  }
  return digits;
}

std::string events(DtmfDetector& d, uint32_t timestamp, uint8_t code, TimeNs at) {
  // Start, two updates, the end packet and its two retransmissions (RFC 4733 section 2.5.1.4).
  std::string digits;
  const std::vector<std::vector<uint8_t>> packets = {event(code, false, 160), event(code, false, 320),
                                                     event(code, false, 480), event(code, true, 640),
                                                     event(code, true, 640), event(code, true, 640)};
  for (size_t i = 0; i < packets.size(); ++i) {
    if (auto c = d.on_event(timestamp, packets[i].data(), packets[i].size(), at + static_cast<TimeNs>(i) * 20 * kMs)) {
      digits.push_back(*c);
    }
  }
  return digits;
}

TEST(DtmfDetector, AnRfc4733EventIsReportedOnceOnItsFirstPacketRetransmittedEndsIncluded) {
  DtmfDetector d;
  const auto start = event(5, false, 160);
  auto first = d.on_event(8000, start.data(), start.size(), 1000 * kMs);
  ASSERT_TRUE(first);  // at once, while the key is still down
  EXPECT_EQ(*first, '5');
  EXPECT_EQ(events(d, 8000, 5, 1020 * kMs), "");      // the rest of the same press
  EXPECT_EQ(events(d, 16000, 5, 2000 * kMs), "5");    // the same key again: a new timestamp
  EXPECT_EQ(events(d, 24000, 11, 3000 * kMs), "#");
  EXPECT_EQ(events(d, 32000, 10, 4000 * kMs), "*");
  EXPECT_EQ(events(d, 40000, 15, 5000 * kMs), "D");
}

TEST(DtmfDetector, EventsThatAreNotKeysAndShortPayloadsAreIgnored) {
  DtmfDetector d;
  const auto flash = event(16, false, 160);  // RFC 4733 section 3.2: hook flash
  EXPECT_FALSE(d.on_event(100, flash.data(), flash.size(), 10 * kMs));
  const auto good = event(1, false, 160);
  EXPECT_FALSE(d.on_event(200, good.data(), 3, 20 * kMs));
  EXPECT_EQ(d.on_event(200, good.data(), good.size(), 30 * kMs).value_or('?'), '1');
}

TEST(DtmfDetector, InBandTonesAreHeardOncePerKeyPress) {
  DtmfDetector d;
  std::vector<int16_t> audio = key_tone(697, 1209, 100, 100);       // 1
  const auto five = key_tone(770, 1336, 100, 100);                 // 5
  const auto pound = key_tone(941, 1477, 100, 100);                // #
  const auto five_again = key_tone(770, 1336, 200, 100);
  for (const auto* part : {&five, &pound, &five_again}) audio.insert(audio.end(), part->begin(), part->end());
  EXPECT_EQ(hear(d, audio, 1000 * kMs), "15#5");
}

TEST(DtmfDetector, SpeechLikeAudioIsNoKey) {
  DtmfDetector d;
  std::vector<int16_t> audio;
  const double pi = std::acos(-1.0);
  for (int i = 0; i < 8000; ++i) {
    audio.push_back(static_cast<int16_t>(8000 * std::sin(2 * pi * 440 * i / 8000.0) *
                                         std::sin(2 * pi * 3 * i / 8000.0)));
  }
  EXPECT_EQ(hear(d, audio, 1000 * kMs), "");
}

TEST(DtmfDetector, TheToneOfAKeyAlsoSentAsAnEventIsTheSamePress) {
  DtmfDetector d;
  EXPECT_EQ(events(d, 8000, 5, 1000 * kMs), "5");
  // The phone sends the tone in its audio as well: heard a few frames later, same press.
  EXPECT_EQ(hear(d, key_tone(770, 1336, 100, 100), 1000 * kMs), "");
  // Another key's tone is another press.
  EXPECT_EQ(hear(d, key_tone(852, 1209, 100, 100), 1200 * kMs), "7");
  // The same key long after the event is a new press.
  EXPECT_EQ(hear(d, key_tone(770, 1336, 100, 100), 3000 * kMs), "5");
  // And an event for a key whose tone was just heard is that press again.
  EXPECT_EQ(events(d, 40000, 5, 3100 * kMs), "");
}

}  // namespace
}  // namespace b2bua::media
