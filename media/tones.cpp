#include "media/tones.h"

#include <array>
#include <memory>
#include <vector>

#include <spandsp.h>

namespace b2bua::media {
namespace {

// One tone: up to two frequencies (Hz; the second 0 for none), each at `level` dBm0, and a
// cadence of up to two on/off pairs (ms; 0 ends it).
struct ToneSpec {
  int f1, f2, level;
  int on1, off1, on2, off2;
};

struct CountryTones {
  std::string_view country;
  ToneSpec busy, congestion, ringback;
};

// ITU-T E.180 Supplement 2. Single tones at -13 dBm0; a dual tone's components at -16 dBm0 so
// the sum stays near the same loudness.
constexpr std::array<CountryTones, 9> kTable = {{
    {"DE", {425, 0, -13, 480, 480, 0, 0}, {425, 0, -13, 240, 240, 0, 0}, {425, 0, -13, 1000, 4000, 0, 0}},
    {"AT", {420, 0, -13, 400, 400, 0, 0}, {420, 0, -13, 200, 200, 0, 0}, {420, 0, -13, 1000, 5000, 0, 0}},
    {"CH", {425, 0, -13, 500, 500, 0, 0}, {425, 0, -13, 200, 200, 0, 0}, {425, 0, -13, 1000, 4000, 0, 0}},
    {"NL", {425, 0, -13, 500, 500, 0, 0}, {425, 0, -13, 250, 250, 0, 0}, {425, 0, -13, 1000, 4000, 0, 0}},
    {"IT", {425, 0, -13, 500, 500, 0, 0}, {425, 0, -13, 200, 200, 0, 0}, {425, 0, -13, 1000, 4000, 0, 0}},
    {"ES", {425, 0, -13, 200, 200, 0, 0}, {425, 0, -13, 200, 200, 200, 600}, {425, 0, -13, 1500, 3000, 0, 0}},
    {"FR", {440, 0, -13, 500, 500, 0, 0}, {440, 0, -13, 250, 250, 0, 0}, {440, 0, -13, 1500, 3500, 0, 0}},
    {"GB", {400, 0, -13, 375, 375, 0, 0}, {400, 0, -13, 400, 350, 225, 525}, {400, 450, -16, 400, 200, 400, 2000}},
    {"US", {480, 620, -16, 500, 500, 0, 0}, {480, 620, -16, 250, 250, 0, 0}, {440, 480, -16, 2000, 4000, 0, 0}},
}};

const ToneSpec& spec_of(Tone tone, std::string_view country) {
  const CountryTones* c = &kTable[0];
  for (const auto& row : kTable) {
    if (row.country == country) c = &row;
  }
  switch (tone) {
    case Tone::busy: return c->busy;
    case Tone::congestion: return c->congestion;
    case Tone::ringback: return c->ringback;
  }
  return c->busy;
}

struct DescriptorFree {
  void operator()(tone_gen_descriptor_t* d) const { tone_gen_descriptor_free(d); }
};
struct GeneratorFree {
  void operator()(tone_gen_state_t* s) const { tone_gen_free(s); }
};

}  // namespace

bool has_tones(std::string_view country) {
  for (const auto& row : kTable) {
    if (row.country == country) return true;
  }
  return false;
}

std::string tone_countries() {
  std::string out;
  for (const auto& row : kTable) out += (out.empty() ? "" : ", ") + std::string(row.country);
  return out;
}

const char* tone_name(Tone tone) {
  switch (tone) {
    case Tone::busy: return "busy";
    case Tone::congestion: return "congestion";
    case Tone::ringback: return "ringback";
  }
  return "?";
}

AudioPtr supervisory_tone(Tone tone, std::string_view country, int seconds) {
  const ToneSpec& t = spec_of(tone, country);
  std::unique_ptr<tone_gen_descriptor_t, DescriptorFree> desc(
      tone_gen_descriptor_init(nullptr, t.f1, t.level, t.f2, t.level, t.on1, t.off1, t.on2, t.off2, 1));
  if (!desc) return nullptr;
  std::unique_ptr<tone_gen_state_t, GeneratorFree> gen(tone_gen_init(nullptr, desc.get()));
  if (!gen) return nullptr;
  auto audio = std::make_shared<Audio>();
  audio->samples.resize(static_cast<size_t>(seconds) * kAudioRate);
  size_t done = 0;
  while (done < audio->samples.size()) {
    const int n = tone_gen(gen.get(), audio->samples.data() + done, static_cast<int>(audio->samples.size() - done));
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  return audio;
}

}  // namespace b2bua::media
