// WAV files in and out: greetings and prompts a user drops in, messages the answering machine
// records.
//
// Rules:
// - load_wav() accepts the WAV files people actually have: PCM 8/16/24/32-bit, IEEE float
//   32/64-bit, A-law and mu-law (G.711), also wrapped in WAVE_FORMAT_EXTENSIBLE; any number of
//   channels (mixed down to mono) and any rate from 8 to 192 kHz (resampled to 8 kHz with an
//   anti-alias filter). A file that is already 8 kHz mono 16-bit is copied sample for sample.
// - Every error names the file and the problem ("greeting.wav: not a WAV file (no RIFF/WAVE
//   header)"), so a log line or a web page can show it as is.
// - A data chunk longer than the file is an error ("truncated data chunk"): a half-uploaded
//   greeting should be noticed, not played cut off. The exception are the placeholder sizes
//   streaming writers leave when they cannot seek back (0xFFFFFFFF; sox: 0x7FFFF000): that data
//   runs to the end of the file.
// - Little-endian by byte, never by casting: the router may be a big-endian MIPS.
// - write_wav() is crash-safe: the file appears under its name complete or not at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "media/audio.h"

namespace b2bua::media {

// The audio, or an error text that begins with the file's name.
using WavResult = std::variant<Audio, std::string>;

// Files larger than this are refused before reading: a router has little memory, and a
// five-minute message at 8 kHz is 4.8 MB.
inline constexpr size_t kMaxWavFileBytes = 64u * 1024 * 1024;

WavResult load_wav(const std::string& path);

// The same for a file already in memory; `name` only labels errors. Reads nothing outside
// `bytes`, whatever they hold.
WavResult parse_wav(std::span<const uint8_t> bytes, const std::string& name);

// Writes 8 kHz mono 16-bit PCM to `path` (via path + ".tmp", fsync, rename, fsync of the folder).
// Returns "" or an error naming the file ("msg.wav.tmp: cannot write: No space left on device");
// on an error nothing new is left under either name, except when only the final fsync of the
// folder fails: then the file is complete in place but might not survive a power cut.
std::string write_wav(const std::string& path, const std::vector<int16_t>& samples);

}  // namespace b2bua::media
