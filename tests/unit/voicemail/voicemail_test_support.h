// Helpers shared by the voicemail tests: a private temporary directory and file checks.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "../storage/storage_test_support.h"

namespace b2bua::voicemail::testing {

// A fresh directory, removed with everything in it at scope exit: the storage tests' own.
using TempDir = storage::testing::TempDir;

inline std::string read_bytes(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) return {};
  std::string bytes(size, '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  bytes.resize(static_cast<size_t>(in.gcount()));
  return bytes;
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Every regular file below `folder`, as paths relative to it, sorted.
inline std::vector<std::string> files_under(const std::filesystem::path& folder) {
  std::vector<std::string> files;
  std::error_code error;
  for (std::filesystem::recursive_directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    if (it->is_regular_file()) files.push_back(std::filesystem::relative(it->path(), folder).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// `seconds` of a ramp, so the bytes on disk can be checked sample by sample.
inline std::vector<int16_t> audio(double seconds) {
  std::vector<int16_t> samples(static_cast<size_t>(seconds * 8000));
  for (size_t i = 0; i < samples.size(); ++i) samples[i] = static_cast<int16_t>(static_cast<int>(i % 65536) - 32768);
  return samples;
}

}  // namespace b2bua::voicemail::testing
