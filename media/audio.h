// Audio as the answering machine handles it: one format everywhere, so playing a prompt or
// recording a message never converts on the media thread. Files in other formats are converted
// once, when they are loaded (wav.h).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace b2bua::media {
// 8 kHz mono 16-bit linear PCM: prompts to play, messages recorded.
struct Audio { std::vector<int16_t> samples; };
using AudioPtr = std::shared_ptr<const Audio>;
inline constexpr int kAudioRate = 8000;
}  // namespace b2bua::media
