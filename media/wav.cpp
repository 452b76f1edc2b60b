// Reading WAV files (wav.h): RIFF chunk walk, fmt validation, decoding, mix-down, resampling.
#include "media/wav.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <optional>

#include "media/g711_codec.h"
#include "media/resampler.h"
#include "media/unique_fd.h"

namespace b2bua::media {
namespace {

constexpr uint32_t kMinRate = 8000;
constexpr uint32_t kMaxRate = 192000;
constexpr uint16_t kMaxChannels = 32;
// Frames decoded per block: bounds the float buffers whatever the file's length.
constexpr size_t kBlockFrames = 4096;

enum class Encoding { pcm, ieee_float, alaw, mulaw };

struct Format {
  Encoding encoding = Encoding::pcm;
  uint16_t channels = 0;
  uint32_t rate = 0;
  size_t sample_bytes = 0;  // container size of one sample of one channel
};

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
bool is_id(const uint8_t* p, const char (&id)[5]) { return std::memcmp(p, id, 4) == 0; }

// The names people know the usual unsupported codecs by, for an error they can act on.
std::string format_name(uint16_t code) {
  switch (code) {
    case 0x0002: return "Microsoft ADPCM";
    case 0x0011: return "4-bit IMA ADPCM";
    case 0x0022: return "TrueSpeech";
    case 0x0031: return "GSM 6.10";
    case 0x0040: return "G.721 ADPCM";
    case 0x0050: return "MPEG audio";
    case 0x0055: return "MP3";
    case 0x0064: return "G.726 ADPCM";
    case 0x0065: return "G.722 ADPCM";
    case 0x0092: return "AC-3";
    case 0x00FF: return "AAC";
    case 0x0161: return "Windows Media Audio";
    case 0x674F: return "Ogg Vorbis";
    case 0xF1AC: return "FLAC";
    default: return "unknown codec";
  }
}

std::string unsupported(uint16_t code) {
  return "unsupported format: " + format_name(code) + " (format " + std::to_string(code) +
         "); use PCM, float, A-law or mu-law";
}

// KSDATAFORMAT_SUBTYPE_* GUIDs are the format code followed by these 14 bytes.
constexpr std::array<uint8_t, 14> kGuidTail = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                               0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

// Fills `out` from a fmt chunk body, or returns the problem.
std::optional<std::string> parse_fmt(const uint8_t* p, size_t size, Format& out) {
  if (size < 16) return "fmt chunk too short (" + std::to_string(size) + " bytes)";
  uint16_t code = le16(p);
  const uint16_t channels = le16(p + 2);
  const uint32_t rate = le32(p + 4);
  const uint16_t bits = le16(p + 14);
  if (code == 0xFFFE) {  // WAVE_FORMAT_EXTENSIBLE: the real format is in the subformat GUID
    if (size < 40 || le16(p + 16) < 22) return std::string("truncated WAVE_FORMAT_EXTENSIBLE fmt chunk");
    if (!std::equal(kGuidTail.begin(), kGuidTail.end(), p + 26))
      return std::string("unsupported format: WAVE_FORMAT_EXTENSIBLE with an unknown subformat; use PCM, float, "
                         "A-law or mu-law");
    code = le16(p + 24);
  }
  switch (code) {
    case 1:
      if (bits == 0 || bits > 32) return "unsupported PCM sample size: " + std::to_string(bits) + " bits";
      out.encoding = Encoding::pcm;
      out.sample_bytes = (bits + 7u) / 8u;  // 12 or 20 bits sit left-justified in 2 or 3 bytes
      break;
    case 3:
      if (bits != 32 && bits != 64) return "unsupported float sample size: " + std::to_string(bits) + " bits";
      out.encoding = Encoding::ieee_float;
      out.sample_bytes = bits / 8u;
      break;
    case 6:
    case 7:
      if (bits != 8) return std::string(code == 6 ? "A-law" : "mu-law") + " with " + std::to_string(bits) +
                            " bits per sample (must be 8)";
      out.encoding = code == 6 ? Encoding::alaw : Encoding::mulaw;
      out.sample_bytes = 1;
      break;
    default:
      return unsupported(code);
  }
  if (channels == 0) return std::string("no channels in the fmt chunk");
  if (channels > kMaxChannels)
    return "too many channels: " + std::to_string(channels) + " (at most " + std::to_string(kMaxChannels) + ")";
  if (rate < kMinRate || rate > kMaxRate)
    return "unsupported sample rate: " + std::to_string(rate) + " Hz (8000 to 192000 Hz)";
  out.channels = channels;
  out.rate = rate;
  return std::nullopt;
}

// One sample of one channel, full scale at +-1.
float decode(const uint8_t* p, const Format& f) {
  switch (f.encoding) {
    case Encoding::alaw: return static_cast<float>(g711_sample(kPayloadPcma, *p)) / 32768.0f;
    case Encoding::mulaw: return static_cast<float>(g711_sample(kPayloadPcmu, *p)) / 32768.0f;
    case Encoding::ieee_float: {
      double v = 0;
      if (f.sample_bytes == 4) {
        const uint32_t u = le32(p);
        float x = 0;
        std::memcpy(&x, &u, sizeof x);
        v = x;
      } else {
        const uint64_t u = le32(p) | (static_cast<uint64_t>(le32(p + 4)) << 32);
        std::memcpy(&v, &u, sizeof v);
      }
      // Out-of-range floats clip, like any converter would; NaN and infinity are silence.
      if (!std::isfinite(v)) return 0.0f;
      return static_cast<float>(std::clamp(v, -1.0, 1.0));
    }
    case Encoding::pcm:
      break;
  }
  if (f.sample_bytes == 1) return static_cast<float>(static_cast<int>(*p) - 128) / 128.0f;  // 8-bit is unsigned
  // Assemble the top bytes into a signed 32-bit value, then scale: any container size alike.
  uint32_t u = 0;
  for (size_t i = 0; i < f.sample_bytes; ++i) u |= static_cast<uint32_t>(p[i]) << (8 * (4 - f.sample_bytes + i));
  return static_cast<float>(static_cast<double>(static_cast<int32_t>(u)) / 2147483648.0);
}

int16_t to_int16(float x) {
  if (std::isnan(x)) return 0;
  const float scaled = std::round(x * 32768.0f);
  return static_cast<int16_t>(std::clamp(scaled, -32768.0f, 32767.0f));
}

void append_int16(std::span<const float> in, std::vector<int16_t>& out) {
  for (float x : in) out.push_back(to_int16(x));
}

// Mixes down and converts `frames` frames of `data`; the caller checked the sizes.
std::variant<Audio, std::string> convert(const uint8_t* data, size_t frames, const Format& f) {
  Audio audio;
  const size_t frame_bytes = f.sample_bytes * f.channels;
  if (f.encoding == Encoding::pcm && f.sample_bytes == 2 && f.channels == 1 && f.rate == kAudioRate) {
    audio.samples.resize(frames);
    for (size_t i = 0; i < frames; ++i) audio.samples[i] = static_cast<int16_t>(le16(data + 2 * i));
    return audio;
  }
  std::optional<Resampler> resampler;
  if (f.rate != kAudioRate) {
    resampler.emplace(f.rate, kAudioRate);
    if (!resampler->error().empty()) return resampler->error();
  }
  audio.samples.reserve(static_cast<size_t>(static_cast<double>(frames) * kAudioRate / f.rate) + 16);
  std::vector<float> mono;
  std::vector<float> out;
  mono.reserve(std::min(frames, kBlockFrames));
  for (size_t start = 0; start < frames; start += kBlockFrames) {
    const size_t n = std::min(kBlockFrames, frames - start);
    mono.clear();
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* frame = data + (start + i) * frame_bytes;
      float sum = 0;
      for (size_t c = 0; c < f.channels; ++c) sum += decode(frame + c * f.sample_bytes, f);
      mono.push_back(sum / static_cast<float>(f.channels));
    }
    if (!resampler) {
      append_int16(mono, audio.samples);
      continue;
    }
    out.clear();
    resampler->process(mono, out);
    append_int16(out, audio.samples);
  }
  if (resampler) {
    out.clear();
    resampler->finish(out);
    append_int16(out, audio.samples);
    if (!resampler->error().empty()) return resampler->error();
  }
  return audio;
}

std::variant<Audio, std::string> parse(std::span<const uint8_t> bytes) {
  const uint8_t* b = bytes.data();
  const size_t n = bytes.size();
  if (n == 0) return std::string("zero-length file");
  if (n >= 12 && is_id(b + 8, "WAVE") && is_id(b, "RIFX")) return std::string("big-endian WAV (RIFX) is not supported");
  if (n >= 12 && is_id(b + 8, "WAVE") && is_id(b, "RF64")) return std::string("RF64 WAV is not supported");
  if (n < 12 || !is_id(b, "RIFF") || !is_id(b + 8, "WAVE")) return std::string("not a WAV file (no RIFF/WAVE header)");

  // The RIFF size is not trusted (writers get it wrong); the chunks are walked to the file's end.
  std::optional<Format> format;
  const uint8_t* data = nullptr;
  size_t data_size = 0;
  size_t pos = 12;
  while (n - pos >= 8) {
    const uint8_t* id = b + pos;
    uint64_t size = le32(b + pos + 4);
    const size_t body = pos + 8;
    const uint64_t avail = n - body;
    if (is_id(id, "data") && !data) {
      // Streaming writers that cannot seek back leave a placeholder: 0xFFFFFFFF (ffmpeg and
      // others), 0x7FFFF000 (sox). Their audio runs to the end of the file.
      if ((size == 0xFFFFFFFFu || size == 0x7FFFF000u) && size > avail) size = avail;
      if (size > avail)
        return "truncated data chunk (" + std::to_string(size) + " bytes declared, " + std::to_string(avail) +
               " in the file)";
      data = b + body;
      data_size = static_cast<size_t>(size);
      if (format) break;  // what follows the audio (LIST, id3, ...) does not matter
    } else if (is_id(id, "fmt ") && !format) {
      if (size > avail) return std::string("truncated fmt chunk");
      Format f;
      if (auto problem = parse_fmt(b + body, static_cast<size_t>(size), f)) return *problem;
      format = f;
      if (data) break;
    }
    if (size > avail) break;  // a chunk we skip is cut short: nothing we need can follow it
    const uint64_t next = body + size + (size & 1);  // chunks are padded to even sizes
    if (next >= n) break;
    pos = static_cast<size_t>(next);
  }
  if (!format) return std::string("no fmt chunk");
  if (!data) return std::string("no data chunk");
  const size_t frame_bytes = format->sample_bytes * format->channels;
  const size_t frames = data_size / frame_bytes;  // a partial last frame is dropped
  if (frames == 0) return std::string("no audio data (empty data chunk)");
  auto result = convert(data, frames, *format);
  if (auto* audio = std::get_if<Audio>(&result); audio && audio->samples.empty())
    return std::string("no audio data (shorter than one sample at 8 kHz)");
  return result;
}

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

WavResult parse_wav(std::span<const uint8_t> bytes, const std::string& name) {
  auto result = parse(bytes);
  if (auto* error = std::get_if<std::string>(&result)) *error = name + ": " + *error;
  return result;
}

WavResult load_wav(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return path + ": cannot open: " + errno_text(errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return path + ": cannot read: " + errno_text(errno);
  if (!S_ISREG(st.st_mode)) return path + ": not a regular file";
  if (static_cast<uint64_t>(st.st_size) > kMaxWavFileBytes)
    return path + ": too large (" + std::to_string(st.st_size) + " bytes; at most " +
           std::to_string(kMaxWavFileBytes) + ")";
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t r = ::read(fd.get(), bytes.data() + got, bytes.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return path + ": cannot read: " + errno_text(errno);
    if (r == 0) break;  // shrank while we read: parse what is there
    got += static_cast<size_t>(r);
  }
  bytes.resize(got);
  return parse_wav(bytes, path);
}

}  // namespace b2bua::media
