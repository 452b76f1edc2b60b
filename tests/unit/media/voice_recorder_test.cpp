#include "media/voice_recorder.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <optional>

namespace b2bua::media {
namespace {

constexpr TimeNs kFrame = 20 * kNsPerMs;

std::array<int16_t, 160> loud() {
  std::array<int16_t, 160> f{};
  for (size_t i = 0; i < f.size(); ++i) f[i] = static_cast<int16_t>(6000 * std::sin(static_cast<double>(i) * 0.7));
  return f;
}
std::array<int16_t, 160> quiet() {
  std::array<int16_t, 160> f{};
  for (size_t i = 0; i < f.size(); ++i) f[i] = static_cast<int16_t>(i % 2 ? 30 : -30);  // line noise
  return f;
}

class VoiceRecorderTest : public ::testing::Test {
 protected:
  // Frame `n` of the stream (timestamp 160 n, arriving at 20 n ms).
  std::optional<Recording::End> frame(uint32_t n, const std::array<int16_t, 160>& f) {
    return recorder_.on_audio(1000 + 160 * n, f.data(), f.size(), kFrame * n);
  }
  VoiceRecorder recorder_;
};

TEST_F(VoiceRecorderTest, SilenceAfterSpeechEndsItAndIsTrimmed) {
  recorder_.start({.max_ms = 60000, .silence_ms = 500, .initial_silence_ms = 0}, 0);
  uint32_t n = 0;
  for (; n < 50; ++n) ASSERT_FALSE(frame(n, quiet())) << n;  // no initial-silence end asked for
  for (; n < 75; ++n) ASSERT_FALSE(frame(n, loud())) << n;
  for (uint32_t k = 0; k < 24; ++k, ++n) ASSERT_FALSE(frame(n, quiet())) << n;
  const auto end = frame(n, quiet());  // the 25th silent frame: 500 ms
  ASSERT_TRUE(end);
  EXPECT_EQ(*end, Recording::End::silence);
  const Recording r = recorder_.finish(*end);
  EXPECT_EQ(r.end, Recording::End::silence);
  EXPECT_EQ(r.samples.size(), 75u * 160);
  EXPECT_FALSE(recorder_.active());
}

TEST_F(VoiceRecorderTest, NothingButSilenceFromTheStartEndsItEmpty) {
  recorder_.start({.max_ms = 60000, .silence_ms = 300, .initial_silence_ms = 1000}, 0);
  for (uint32_t n = 0; n < 49; ++n) ASSERT_FALSE(frame(n, quiet())) << n;
  const auto end = frame(49, quiet());
  ASSERT_TRUE(end);
  EXPECT_EQ(*end, Recording::End::silence);
  EXPECT_TRUE(recorder_.finish(*end).samples.empty());
}

TEST_F(VoiceRecorderTest, ItEndsAtItsMaximumLength) {
  recorder_.start({.max_ms = 1000, .silence_ms = 0, .initial_silence_ms = 0}, 0);
  for (uint32_t n = 0; n < 49; ++n) ASSERT_FALSE(frame(n, loud())) << n;
  const auto end = frame(49, loud());
  ASSERT_TRUE(end);
  EXPECT_EQ(*end, Recording::End::max_length);
  EXPECT_EQ(recorder_.finish(*end).samples.size(), 8000u);
}

TEST_F(VoiceRecorderTest, ATimestampGapIsFilledWithSilence) {
  recorder_.start({}, 0);
  ASSERT_FALSE(frame(0, loud()));
  ASSERT_FALSE(frame(5, loud()));  // four packets lost (or suppressed)
  const Recording r = recorder_.finish(Recording::End::stopped);
  ASSERT_EQ(r.samples.size(), 160u * 6);
  EXPECT_EQ(r.samples[159], loud()[159]);
  for (size_t i = 160; i < 800; ++i) ASSERT_EQ(r.samples[i], 0) << i;
  EXPECT_EQ(r.samples[801], loud()[1]);
}

TEST_F(VoiceRecorderTest, TimeWithoutPacketsCountsAsSilence) {
  recorder_.start({.max_ms = 60000, .silence_ms = 500, .initial_silence_ms = 0}, 0);
  ASSERT_FALSE(frame(0, loud()));
  EXPECT_FALSE(recorder_.on_tick(400 * kNsPerMs));
  const auto end = recorder_.on_tick(560 * kNsPerMs);  // 560 ms after the last packet
  ASSERT_TRUE(end);
  EXPECT_EQ(*end, Recording::End::silence);
  EXPECT_EQ(recorder_.finish(*end).samples.size(), 160u);
}

TEST_F(VoiceRecorderTest, ComfortNoiseIsSilence) {
  recorder_.start({.max_ms = 60000, .silence_ms = 400, .initial_silence_ms = 0}, 0);
  ASSERT_FALSE(frame(0, loud()));
  ASSERT_FALSE(recorder_.on_comfort_noise(1000 + 160, kFrame));
  const auto end = frame(21, quiet());  // 20 frames of comfort noise, then a quiet one
  ASSERT_TRUE(end);
  EXPECT_EQ(*end, Recording::End::silence);
  EXPECT_EQ(recorder_.finish(*end).samples.size(), 160u);
}

}  // namespace
}  // namespace b2bua::media
