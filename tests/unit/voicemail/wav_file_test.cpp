#include "b2bua/voicemail/wav_file.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "voicemail_test_support.h"

namespace b2bua::voicemail {
namespace {

uint32_t u32_at(const std::string& bytes, size_t offset) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<uint8_t>(bytes[offset + static_cast<size_t>(i)]);
  return value;
}

uint16_t u16_at(const std::string& bytes, size_t offset) {
  return static_cast<uint16_t>(static_cast<uint8_t>(bytes[offset]) | (static_cast<uint8_t>(bytes[offset + 1]) << 8));
}

TEST(WavFileTest, WritesA8kHzMono16BitLittleEndianFile) {
  testing::TempDir dir;
  const std::string path = dir.file("m.wav");
  const std::vector<int16_t> samples{0, 1, -1, 32767, -32768, 0x1234};
  ASSERT_EQ(write_wav_file(path, samples), std::nullopt);
  const std::string bytes = testing::read_bytes(path);
  ASSERT_EQ(static_cast<int64_t>(bytes.size()), wav_file_bytes(samples.size()));
  EXPECT_EQ(bytes.substr(0, 4), "RIFF");
  EXPECT_EQ(u32_at(bytes, 4), bytes.size() - 8);
  EXPECT_EQ(bytes.substr(8, 8), "WAVEfmt ");
  EXPECT_EQ(u32_at(bytes, 16), 16u);
  EXPECT_EQ(u16_at(bytes, 20), 1u) << "PCM";
  EXPECT_EQ(u16_at(bytes, 22), 1u) << "mono";
  EXPECT_EQ(u32_at(bytes, 24), 8000u);
  EXPECT_EQ(u32_at(bytes, 28), 16000u);
  EXPECT_EQ(u16_at(bytes, 32), 2u);
  EXPECT_EQ(u16_at(bytes, 34), 16u);
  EXPECT_EQ(bytes.substr(36, 4), "data");
  EXPECT_EQ(u32_at(bytes, 40), 2 * samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(static_cast<int16_t>(u16_at(bytes, 44 + 2 * i)), samples[i]) << "sample " << i;
  }
  EXPECT_EQ(testing::files_under(dir.path()), std::vector<std::string>{"m.wav"}) << "no temporary left";
}

TEST(WavFileTest, LongRecordingIsWrittenWhole) {
  testing::TempDir dir;
  const auto samples = testing::audio(30);  // more than one write chunk
  ASSERT_EQ(write_wav_file(dir.file("long.wav"), samples), std::nullopt);
  const std::string bytes = testing::read_bytes(dir.file("long.wav"));
  ASSERT_EQ(bytes.size(), 44 + 2 * samples.size());
  EXPECT_EQ(static_cast<int16_t>(u16_at(bytes, bytes.size() - 2)), samples.back());
}

TEST(WavFileTest, EmptyRecordingIsAValidFile) {
  testing::TempDir dir;
  ASSERT_EQ(write_wav_file(dir.file("empty.wav"), {}), std::nullopt);
  EXPECT_EQ(testing::read_bytes(dir.file("empty.wav")).size(), 44u);
}

TEST(WavFileTest, ExistingFileIsNotReplaced) {
  testing::TempDir dir;
  testing::write_text(dir.file("m.wav"), "keep me");
  const auto error = write_wav_file(dir.file("m.wav"), {1, 2, 3});
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("exists"), std::string::npos) << *error;
  EXPECT_EQ(testing::read_bytes(dir.file("m.wav")), "keep me");
}

TEST(WavFileTest, MissingFolderIsAnErrorNamingThePath) {
  testing::TempDir dir;
  const std::string path = dir.file("absent/m.wav");
  const auto error = write_wav_file(path, {1, 2, 3});
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find(path), std::string::npos) << *error;
  EXPECT_TRUE(testing::files_under(dir.path()).empty());
}

}  // namespace
}  // namespace b2bua::voicemail
