#include "media/wav.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <random>
#include <string>
#include <vector>

namespace b2bua::media {
namespace {

namespace fs = std::filesystem;

// A folder of its own per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "b2bua-wav-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void put16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}
void put32(std::vector<uint8_t>& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v));
  put16(b, static_cast<uint16_t>(v >> 16));
}
void put_id(std::vector<uint8_t>& b, const char* id) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(id[i]));
}

struct Spec {
  uint16_t code = 1;
  uint16_t channels = 1;
  uint32_t rate = 8000;
  uint16_t bits = 16;
  bool extensible = false;  // code goes into the subformat GUID
  bool fact = false;        // a fact chunk between fmt and data, as sox writes for G.711
  bool odd_list = false;    // a LIST chunk of odd size (padded) before fmt
};

// A WAV file around `data` as described by `s`.
std::vector<uint8_t> make_wav(const Spec& s, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> b;
  put_id(b, "RIFF");
  put32(b, 0);  // filled in below
  put_id(b, "WAVE");
  if (s.odd_list) {
    put_id(b, "LIST");
    put32(b, 3);
    b.insert(b.end(), {'a', 'b', 'c', 0});  // 3 bytes and the pad byte
  }
  put_id(b, "fmt ");
  put32(b, s.extensible ? 40 : 16);
  put16(b, s.extensible ? 0xFFFE : s.code);
  put16(b, s.channels);
  put32(b, s.rate);
  put32(b, s.rate * s.channels * s.bits / 8);
  put16(b, static_cast<uint16_t>(s.channels * s.bits / 8));
  put16(b, s.bits);
  if (s.extensible) {
    put16(b, 22);
    put16(b, s.bits);  // valid bits
    put32(b, 3);       // channel mask
    put16(b, s.code);
    b.insert(b.end(), {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71});
  }
  if (s.fact) {
    put_id(b, "fact");
    put32(b, 4);
    put32(b, static_cast<uint32_t>(data.size()));
  }
  put_id(b, "data");
  put32(b, static_cast<uint32_t>(data.size()));
  b.insert(b.end(), data.begin(), data.end());
  if (data.size() % 2) b.push_back(0);
  const auto riff = static_cast<uint32_t>(b.size() - 8);
  std::memcpy(b.data() + 4, &riff, 4);  // test host is little-endian; the parser ignores it anyway
  return b;
}

std::vector<uint8_t> pcm16(const std::vector<int16_t>& samples) {
  std::vector<uint8_t> b;
  for (int16_t s : samples) put16(b, static_cast<uint16_t>(s));
  return b;
}

// `seconds` of a `freq` Hz sine at `rate`, amplitude 0.5 of full scale.
std::vector<double> sine(double freq, int rate, double seconds) {
  std::vector<double> out(static_cast<size_t>(rate * seconds));
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = 0.5 * std::sin(2 * std::numbers::pi * freq * static_cast<double>(i) / rate);
  }
  return out;
}

// Sign changes in the middle half of `s` (away from the filter's edges), scaled to per second.
double crossings_per_second(const std::vector<int16_t>& s) {
  const size_t from = s.size() / 4;
  const size_t to = s.size() * 3 / 4;
  int count = 0;
  for (size_t i = from + 1; i < to; ++i) count += (s[i - 1] < 0) != (s[i] < 0);
  return count * 8000.0 / static_cast<double>(to - from);
}

int16_t peak(const std::vector<int16_t>& s) {
  int16_t p = 0;
  for (int16_t x : s) p = std::max<int16_t>(p, static_cast<int16_t>(std::abs(x)));
  return p;
}

const Audio& audio_of(const WavResult& r) {
  static const Audio empty;
  if (auto* error = std::get_if<std::string>(&r)) {
    ADD_FAILURE() << *error;
    return empty;
  }
  return std::get<Audio>(r);
}

std::string error_of(const WavResult& r) {
  if (auto* error = std::get_if<std::string>(&r)) return *error;
  return "(loaded)";
}

TEST(Wav, WrittenFileLoadsBackSampleForSample) {
  TempDir dir;
  std::vector<int16_t> samples;
  for (int i = 0; i < 8000; ++i) samples.push_back(static_cast<int16_t>((i * 7919) % 65536 - 32768));
  ASSERT_EQ(write_wav(dir.file("msg.wav"), samples), "");
  EXPECT_FALSE(fs::exists(dir.file("msg.wav.tmp"))) << "the temporary file is renamed, not left behind";
  EXPECT_EQ(fs::file_size(dir.file("msg.wav")), 44u + 16000u);
  EXPECT_EQ(audio_of(load_wav(dir.file("msg.wav"))).samples, samples);
}

TEST(Wav, WriteIntoAMissingFolderNamesTheFile) {
  TempDir dir;
  const std::string error = write_wav(dir.file("no/such/msg.wav"), {1, 2, 3});
  EXPECT_NE(error.find("msg.wav.tmp: cannot create: No such file or directory"), std::string::npos) << error;
}

TEST(Wav, WriteReplacesAnOlderFileWhole) {
  TempDir dir;
  ASSERT_EQ(write_wav(dir.file("m.wav"), std::vector<int16_t>(1000, 5)), "");
  ASSERT_EQ(write_wav(dir.file("m.wav"), {1, 2}), "");
  EXPECT_EQ(audio_of(load_wav(dir.file("m.wav"))).samples, (std::vector<int16_t>{1, 2}));
}

// What a kill -9 in the middle of a write leaves: a half .tmp file, never a half msg.wav. The next
// write goes through it.
TEST(Wav, LeftoverTemporaryFileFromACrashIsOverwritten) {
  TempDir dir;
  { std::ofstream(dir.file("msg.wav.tmp")) << "RIFF half a file"; }
  ASSERT_EQ(write_wav(dir.file("msg.wav"), {4, 5, 6}), "");
  EXPECT_FALSE(fs::exists(dir.file("msg.wav.tmp")));
  EXPECT_EQ(audio_of(load_wav(dir.file("msg.wav"))).samples, (std::vector<int16_t>{4, 5, 6}));
}

TEST(Wav, Stereo16kHzIsMixedAndResampledKeepingPitch) {
  const std::vector<double> tone = sine(1000, 16000, 1.0);
  std::vector<int16_t> frames;
  for (double x : tone) {
    frames.push_back(static_cast<int16_t>(std::lround(x * 32767)));       // left
    frames.push_back(static_cast<int16_t>(std::lround(x * 32767 / 2)));   // right, quieter
  }
  const Audio a = audio_of(parse_wav(make_wav({.channels = 2, .rate = 16000}, pcm16(frames)), "s.wav"));
  EXPECT_NEAR(static_cast<double>(a.samples.size()), 8000.0, 8.0);
  EXPECT_NEAR(crossings_per_second(a.samples), 2000.0, 20.0);
  EXPECT_NEAR(peak(a.samples), 0.75 * 0.5 * 32768, 500) << "mixed down as the average of the channels";
}

TEST(Wav, Float44kHzIsResampled) {
  const std::vector<double> tone = sine(1000, 44100, 2.0);
  std::vector<uint8_t> data;
  for (double x : tone) {
    const auto f = static_cast<float>(x);
    uint32_t u = 0;
    std::memcpy(&u, &f, 4);
    put32(data, u);
  }
  const Audio a = audio_of(parse_wav(make_wav({.code = 3, .rate = 44100, .bits = 32}, data), "f.wav"));
  EXPECT_NEAR(static_cast<double>(a.samples.size()), 16000.0, 16.0);
  EXPECT_NEAR(crossings_per_second(a.samples), 2000.0, 20.0);
  EXPECT_NEAR(peak(a.samples), 16384, 500);
}

TEST(Wav, Double48kHzIsResampled) {
  const std::vector<double> tone = sine(440, 48000, 0.5);
  std::vector<uint8_t> data;
  for (double x : tone) {
    uint64_t u = 0;
    std::memcpy(&u, &x, 8);
    put32(data, static_cast<uint32_t>(u));
    put32(data, static_cast<uint32_t>(u >> 32));
  }
  const Audio a = audio_of(parse_wav(make_wav({.code = 3, .rate = 48000, .bits = 64}, data), "d.wav"));
  EXPECT_NEAR(static_cast<double>(a.samples.size()), 4000.0, 4.0);
  EXPECT_NEAR(crossings_per_second(a.samples), 880.0, 20.0);
}

TEST(Wav, ToneAboveTheTelephoneBandIsFilteredOut) {
  // 6 kHz cannot exist at 8 kHz: without an anti-alias filter it would fold down to 2 kHz.
  const std::vector<double> tone = sine(6000, 48000, 0.5);
  std::vector<int16_t> pcm;
  for (double x : tone) pcm.push_back(static_cast<int16_t>(std::lround(x * 32767)));
  const Audio a = audio_of(parse_wav(make_wav({.rate = 48000}, pcm16(pcm)), "hi.wav"));
  EXPECT_LT(peak(std::vector<int16_t>(a.samples.begin() + 500, a.samples.end() - 500)), 50);
}

TEST(Wav, MuLawAndALawAreDecoded) {
  const Audio mu = audio_of(parse_wav(make_wav({.code = 7, .bits = 8, .fact = true}, {0xFF, 0x80, 0x00}), "u.wav"));
  EXPECT_EQ(mu.samples, (std::vector<int16_t>{0, 32124, -32124}));
  const Audio a = audio_of(parse_wav(make_wav({.code = 6, .bits = 8}, {0xD5, 0x55, 0xAA, 0x2A}), "a.wav"));
  EXPECT_EQ(a.samples, (std::vector<int16_t>{8, -8, 32256, -32256}));
}

TEST(Wav, EightBitPcmIsUnsigned) {
  const Audio a = audio_of(parse_wav(make_wav({.bits = 8}, {0x80, 0xFF, 0x00}), "8.wav"));
  EXPECT_EQ(a.samples, (std::vector<int16_t>{0, 32512, -32768}));
}

TEST(Wav, ExtensibleCarriesTheRealFormat) {
  // 24-bit stereo PCM in WAVE_FORMAT_EXTENSIBLE: 0x123456 -> 0x1234 (the low byte rounds down).
  std::vector<uint8_t> data = {0x56, 0x34, 0x12, 0x56, 0x34, 0x12, 0x00, 0x00, 0x80, 0x00, 0x00, 0x80};
  const Audio a = audio_of(parse_wav(make_wav({.channels = 2, .bits = 24, .extensible = true}, data), "x.wav"));
  EXPECT_EQ(a.samples, (std::vector<int16_t>{0x1234, -32768}));
  const Audio mu = audio_of(parse_wav(make_wav({.code = 7, .bits = 8, .extensible = true}, {0x80}), "xu.wav"));
  EXPECT_EQ(mu.samples, (std::vector<int16_t>{32124}));
}

TEST(Wav, ThirtyTwoBitPcmAndOddChunksBeforeTheAudio) {
  std::vector<uint8_t> data;
  put32(data, 0x40000000u);  // half scale
  put32(data, 0xC0000000u);
  const Audio a = audio_of(parse_wav(make_wav({.bits = 32, .odd_list = true}, data), "p.wav"));
  EXPECT_EQ(a.samples, (std::vector<int16_t>{16384, -16384}));
}

TEST(Wav, StreamedDataSizeRunsToTheEndOfTheFile) {
  std::vector<uint8_t> b = make_wav({}, pcm16({1, 2, 3}));
  std::memset(b.data() + b.size() - 10, 0xFF, 4);  // the data size field
  EXPECT_EQ(audio_of(parse_wav(b, "s.wav")).samples, (std::vector<int16_t>{1, 2, 3}));
  const uint8_t sox_piped[4] = {0x00, 0xF0, 0xFF, 0x7F};  // what sox writes to a pipe
  std::memcpy(b.data() + b.size() - 10, sox_piped, 4);
  EXPECT_EQ(audio_of(parse_wav(b, "s.wav")).samples, (std::vector<int16_t>{1, 2, 3}));
}

TEST(Wav, ErrorsNameTheFileAndTheProblem) {
  TempDir dir;
  EXPECT_EQ(error_of(load_wav(dir.file("none.wav"))),
            dir.file("none.wav") + ": cannot open: No such file or directory");
  { std::ofstream(dir.file("empty.wav")); }
  EXPECT_EQ(error_of(load_wav(dir.file("empty.wav"))), dir.file("empty.wav") + ": zero-length file");

  const std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '!'};
  EXPECT_EQ(error_of(parse_wav(text, "greeting.wav")), "greeting.wav: not a WAV file (no RIFF/WAVE header)");
  EXPECT_EQ(error_of(parse_wav(make_wav({.code = 17, .bits = 4}, {1, 2, 3, 4}), "greeting.wav")),
            "greeting.wav: unsupported format: 4-bit IMA ADPCM (format 17); use PCM, float, A-law or mu-law");
  EXPECT_EQ(error_of(parse_wav(make_wav({.rate = 4000}, pcm16({1})), "g.wav")),
            "g.wav: unsupported sample rate: 4000 Hz (8000 to 192000 Hz)");
  EXPECT_EQ(error_of(parse_wav(make_wav({.code = 3, .bits = 16}, pcm16({1})), "g.wav")),
            "g.wav: unsupported float sample size: 16 bits");
  EXPECT_EQ(error_of(parse_wav(make_wav({}, {}), "g.wav")), "g.wav: no audio data (empty data chunk)");

  std::vector<uint8_t> cut = make_wav({}, pcm16(std::vector<int16_t>(100, 7)));
  cut.resize(cut.size() - 50);
  EXPECT_EQ(error_of(parse_wav(cut, "g.wav")), "g.wav: truncated data chunk (200 bytes declared, 150 in the file)");

  std::vector<uint8_t> header_only = make_wav({}, {});
  header_only.resize(12);
  EXPECT_EQ(error_of(parse_wav(header_only, "g.wav")), "g.wav: no fmt chunk");
  std::vector<uint8_t> no_data = make_wav({}, {});
  no_data.resize(no_data.size() - 8);
  EXPECT_EQ(error_of(parse_wav(no_data, "g.wav")), "g.wav: no data chunk");
}

// Random bytes, every prefix of a valid file and random corruptions of it: each gives audio or
// an error, never a crash or a read outside the buffer (run under -DB2BUA_SANITIZE=ON to check).
TEST(Wav, GarbageNeverCrashes) {
  std::mt19937 rng(12345);
  auto byte = [&] { return static_cast<uint8_t>(rng() & 0xFF); };
  for (int i = 0; i < 300; ++i) {
    std::vector<uint8_t> b(rng() % 200);
    for (auto& x : b) x = byte();
    if (i % 2 && b.size() >= 12) std::memcpy(b.data(), "RIFF\0\0\0\0WAVE", 12);
    (void)parse_wav(b, "random.wav");
  }
  const std::vector<double> tone = sine(1000, 22050, 0.05);
  std::vector<int16_t> pcm;
  for (double x : tone) {
    pcm.push_back(static_cast<int16_t>(x * 30000));
    pcm.push_back(static_cast<int16_t>(-x * 30000));
  }
  const std::vector<Spec> specs = {{.channels = 2, .rate = 22050}, {.code = 7, .bits = 8, .fact = true},
                                   {.code = 3, .rate = 11025, .bits = 32, .extensible = true},
                                   {.channels = 3, .bits = 24, .odd_list = true}};
  for (const Spec& spec : specs) {
    const std::vector<uint8_t> good = make_wav(spec, pcm16(pcm));
    for (size_t len = 0; len <= good.size(); len += (len < 120 ? 1 : 97)) {
      (void)parse_wav(std::vector<uint8_t>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len)), "cut.wav");
    }
    for (int i = 0; i < 300; ++i) {
      std::vector<uint8_t> b = good;
      for (int k = 0; k < 4; ++k) b[rng() % std::min<size_t>(b.size(), 80)] = byte();  // mostly headers
      (void)parse_wav(b, "bent.wav");
    }
  }
}

}  // namespace
}  // namespace b2bua::media
