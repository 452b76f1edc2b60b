// Writing a recorded message to its WAV file so that a crash or a power cut at any moment leaves
// either the complete file or none under its name.
//
// To be replaced by media/wav.h's write_wav() once that lands: this one exists only so the
// mailbox does not wait for it. Keep the same contract (tmp file beside the target, fsync,
// rename, fsync of the folder) so the swap changes no behaviour; Mailboxes::reconcile() relies
// on the temporary name being the target's name plus kTemporarySuffix.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b2bua::voicemail {

// What the answering machine records: narrowband telephone audio.
inline constexpr int kSampleRate = 8000;
inline constexpr int64_t kWavHeaderBytes = 44;
inline constexpr std::string_view kTemporarySuffix = ".tmp";

// The size of the file write_wav_file() makes of `sample_count` samples.
constexpr int64_t wav_file_bytes(size_t sample_count) {
  return kWavHeaderBytes + 2 * static_cast<int64_t>(sample_count);
}

// Writes `samples` as 8 kHz mono 16-bit PCM to `path` + kTemporarySuffix, fsyncs it, renames it
// to `path` and fsyncs the folder. Returns nullopt on success, else the error in words (naming
// the path and the system's reason); on failure nothing is left under either name. Refuses to
// replace an existing `path`.
std::optional<std::string> write_wav_file(const std::string& path, const std::vector<int16_t>& samples);

}  // namespace b2bua::voicemail
