#include "media/prompts.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <system_error>

#include "media/wav.h"

namespace b2bua::media {

namespace fs = std::filesystem;

std::vector<std::string> PromptSet::load(const std::string& dir) {
  std::vector<std::string> errors;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    errors.push_back(dir + ": cannot read the prompt folder: " + ec.message());
  } else {
    // Sorted, so errors come in the same order on every start.
    std::vector<fs::path> files;
    for (const fs::directory_entry& entry : it) {
      if (entry.path().extension() == ".wav" && entry.is_regular_file(ec)) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      auto result = load_wav(file.string());
      if (auto* error = std::get_if<std::string>(&result)) {
        errors.push_back(std::move(*error));
        continue;
      }
      prompts_[file.stem().string()] = std::make_shared<const Audio>(std::move(std::get<Audio>(result)));
    }
  }
  for (std::string_view name : kRequiredPrompts) {
    if (!prompts_.contains(name)) errors.push_back(dir + ": missing prompt: " + std::string(name));
  }
  return errors;
}

AudioPtr PromptSet::get(std::string_view name) const {
  auto it = prompts_.find(name);
  return it == prompts_.end() ? nullptr : it->second;
}

namespace {

std::vector<std::string> digit_names(unsigned n) {
  std::vector<std::string> names;
  for (char digit : std::to_string(n)) names.push_back(std::string("digit_") + digit);
  return names;
}

}  // namespace

std::vector<std::string> number_words(unsigned n) {
  if (n < 10 || n >= 60) return digit_names(n);
  if (n < 20 || n % 10 == 0) return {"number_" + std::to_string(n)};
  return {"number_" + std::to_string(n / 10 * 10), "digit_" + std::to_string(n % 10)};
}

std::vector<AudioPtr> PromptSet::found(const std::vector<std::string>& names) const {
  std::vector<AudioPtr> out;
  for (const std::string& name : names) {
    if (AudioPtr p = get(name)) out.push_back(std::move(p));
  }
  return out;
}

std::vector<AudioPtr> PromptSet::say_number(unsigned n) const { return found(digit_names(n)); }

std::vector<AudioPtr> PromptSet::say_words(unsigned n) const { return found(number_words(n)); }

std::vector<AudioPtr> PromptSet::sentence(const std::vector<std::string>& names) const {
  std::vector<AudioPtr> out = found(names);
  if (out.size() != names.size()) out.clear();
  return out;
}

AudioPtr concat(const std::vector<AudioPtr>& parts) {
  auto out = std::make_shared<Audio>();
  size_t total = 0;
  for (const AudioPtr& p : parts) total += p ? p->samples.size() : 0;
  out->samples.reserve(total);
  for (const AudioPtr& p : parts) {
    if (p) out->samples.insert(out->samples.end(), p->samples.begin(), p->samples.end());
  }
  return out;
}

AudioPtr beep() {
  static const AudioPtr tone = [] {
    constexpr double kFreq = 1000;
    constexpr size_t kSamples = kAudioRate * 400 / 1000;
    constexpr size_t kRamp = kAudioRate * 5 / 1000;
    // G.711's full-scale sine (16-bit peak 32767) is +3.17 dBm0, so -10 dBm0 is 13.17 dB below.
    const double amplitude = 32767.0 * std::pow(10.0, -13.17 / 20.0);  // about 7190
    auto audio = std::make_shared<Audio>();
    audio->samples.resize(kSamples);
    for (size_t i = 0; i < kSamples; ++i) {
      double gain = 1;
      const size_t edge = std::min(i, kSamples - 1 - i);
      if (edge < kRamp) gain = 0.5 - 0.5 * std::cos(std::numbers::pi * static_cast<double>(edge) / kRamp);
      const double x = amplitude * gain * std::sin(2 * std::numbers::pi * kFreq * static_cast<double>(i) / kAudioRate);
      audio->samples[i] = static_cast<int16_t>(std::lround(x));
    }
    return AudioPtr(std::move(audio));
  }();
  return tone;
}

namespace {

// <prefix>/bin/b2bua -> <prefix>/share/b2bua/prompts: right for the .deb (prefix /usr) whatever
// prefix the build was configured with.
std::string beside_binary() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty()) return "";
  return (exe.parent_path().parent_path() / "share" / "b2bua" / "prompts").string();
}

bool is_dir(const std::string& dir) {
  std::error_code ec;
  return !dir.empty() && fs::is_directory(dir, ec);
}

}  // namespace

std::string default_prompts_dir() {
  if (std::string dir = beside_binary(); is_dir(dir)) return dir;
  if (is_dir(B2BUA_PROMPTS_DIR)) return B2BUA_PROMPTS_DIR;
  return B2BUA_SOURCE_PROMPTS_DIR;
}

}  // namespace b2bua::media
