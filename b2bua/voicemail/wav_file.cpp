#include "b2bua/voicemail/wav_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <limits>

namespace b2bua::voicemail {
namespace {

std::string failure(const std::string& what, const std::string& path, int error) {
  return what + " " + path + ": " + std::strerror(error);
}

// A file descriptor closed on every way out; close() is checked separately on success, because
// on some file systems (NFS, full flash) that is where a write error shows.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  // Closes now; the error number, or 0.
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// Little-endian whatever the CPU: routers run on big-endian MIPS too, and WAV is little-endian.
void put_u16(std::string& out, uint16_t value) {
  out.push_back(static_cast<char>(value & 0xff));
  out.push_back(static_cast<char>((value >> 8) & 0xff));
}

void put_u32(std::string& out, uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

std::string header(uint32_t data_bytes) {
  constexpr uint16_t kChannels = 1;
  constexpr uint16_t kBitsPerSample = 16;
  constexpr uint16_t kBlockAlign = kChannels * kBitsPerSample / 8;
  std::string out;
  out.reserve(static_cast<size_t>(kWavHeaderBytes));
  out += "RIFF";
  put_u32(out, 36 + data_bytes);
  out += "WAVE";
  out += "fmt ";
  put_u32(out, 16);  // size of the PCM format chunk
  put_u16(out, 1);   // PCM
  put_u16(out, kChannels);
  put_u32(out, kSampleRate);
  put_u32(out, kSampleRate * kBlockAlign);  // bytes per second
  put_u16(out, kBlockAlign);
  put_u16(out, kBitsPerSample);
  out += "data";
  put_u32(out, data_bytes);
  return out;
}

// The error number, or 0 once all of `bytes` is written.
int write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    // 0 bytes written with no error: treat as a full device rather than spin.
    if (n == 0) return ENOSPC;
    done += static_cast<size_t>(n);
  }
  return 0;
}

int write_contents(int fd, const std::vector<int16_t>& samples, uint32_t data_bytes) {
  if (const int error = write_all(fd, header(data_bytes)); error != 0) return error;
  // In chunks: a whole message in one buffer would double its memory on a small router.
  constexpr size_t kChunkSamples = 16 * 1024;
  std::string chunk;
  chunk.reserve(2 * kChunkSamples);
  for (size_t start = 0; start < samples.size(); start += kChunkSamples) {
    chunk.clear();
    const size_t end = std::min(samples.size(), start + kChunkSamples);
    for (size_t i = start; i < end; ++i) put_u16(chunk, static_cast<uint16_t>(samples[i]));
    if (const int error = write_all(fd, chunk); error != 0) return error;
  }
  return 0;
}

std::string parent_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The rename is durable only once the folder's entry is on the flash too.
int sync_folder(const std::string& folder) {
  FileDescriptor fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return errno;
  // Some file systems cannot fsync a folder and say so with EINVAL: nothing more to do there.
  if (::fsync(fd.get()) != 0 && errno != EINVAL) return errno;
  return fd.close();
}

}  // namespace

std::optional<std::string> write_wav_file(const std::string& path, const std::vector<int16_t>& samples) {
  const auto data_bytes = 2 * static_cast<uint64_t>(samples.size());
  if (data_bytes > std::numeric_limits<uint32_t>::max() - 36u) {
    return "cannot write " + path + ": too long for a WAV file";
  }
  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0) return "cannot write " + path + ": it already exists";

  const std::string temporary = path + std::string(kTemporarySuffix);
  // O_EXCL: a stale temporary is reconcile()'s to delete, never ours to write through.
  FileDescriptor fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
  if (fd.get() < 0) return failure("cannot create", temporary, errno);

  int error = write_contents(fd.get(), samples, static_cast<uint32_t>(data_bytes));
  std::string what = "cannot write";
  if (error == 0 && ::fsync(fd.get()) != 0) {
    error = errno;
    what = "cannot sync";
  }
  if (const int close_error = fd.close(); error == 0 && close_error != 0) {
    error = close_error;
    what = "cannot close";
  }
  if (error != 0) {
    ::unlink(temporary.c_str());
    return failure(what, temporary, error);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    error = errno;
    ::unlink(temporary.c_str());
    return failure("cannot rename to", path, error);
  }
  if (const int sync_error = sync_folder(parent_of(path)); sync_error != 0) {
    // Not durable: take it back rather than let the caller write a row for a file that may not
    // survive a power cut.
    ::unlink(path.c_str());
    return failure("cannot sync the folder of", path, sync_error);
  }
  return std::nullopt;
}

}  // namespace b2bua::voicemail
