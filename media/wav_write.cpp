// Writing WAV files (wav.h) so that a crash or a power cut never leaves half a message under the
// final name: the bytes go to path + ".tmp", reach the disk (fsync), and only then does the
// rename make them visible; fsync of the folder makes the rename itself survive a power cut.
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <string_view>

#include "media/unique_fd.h"
#include "media/wav.h"

namespace b2bua::media {
namespace {

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void put32(std::vector<uint8_t>& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v));
  put16(out, static_cast<uint16_t>(v >> 16));
}
void put_id(std::vector<uint8_t>& out, const char (&id)[5]) { out.insert(out.end(), id, id + 4); }

// The whole file in memory: messages are short (a minute is 960 kB), and one write() keeps the
// error handling in one place.
std::vector<uint8_t> encode(const std::vector<int16_t>& samples) {
  const auto data_bytes = static_cast<uint32_t>(samples.size() * 2);
  std::vector<uint8_t> out;
  out.reserve(44 + data_bytes);
  put_id(out, "RIFF");
  put32(out, 36 + data_bytes);
  put_id(out, "WAVE");
  put_id(out, "fmt ");
  put32(out, 16);
  put16(out, 1);  // PCM
  put16(out, 1);  // mono
  put32(out, kAudioRate);
  put32(out, kAudioRate * 2);  // bytes per second
  put16(out, 2);               // block align
  put16(out, 16);              // bits per sample
  put_id(out, "data");
  put32(out, data_bytes);
  for (int16_t s : samples) put16(out, static_cast<uint16_t>(s));
  return out;
}

std::string write_all(int fd, const std::vector<uint8_t>& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return std::strerror(errno);
    done += static_cast<size_t>(w);
  }
  return "";
}

// Joins the parts of an error text. (Not a chain of operator+: GCC 12 at -O2 warns about that
// with a bogus -Wrestrict.)
std::string text(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out += p;
  return out;
}

}  // namespace

std::string write_wav(const std::string& path, const std::vector<int16_t>& samples) {
  if (samples.size() > (0xFFFFFFFFu - 36) / 2) return text({path, ": too long for a WAV file"});
  const std::string tmp = path + ".tmp";
  // 0640: recorded messages are personal; the service's group may read them, nobody else.
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (!fd.valid()) return text({tmp, ": cannot create: ", std::strerror(errno)});
  auto fail = [&](std::string_view what, std::string_view why) {
    fd.reset();
    ::unlink(tmp.c_str());  // no half file left behind under any name
    return text({tmp, ": cannot ", what, ": ", why});
  };
  if (std::string err = write_all(fd.get(), encode(samples)); !err.empty()) return fail("write", err);
  if (::fsync(fd.get()) != 0) return fail("sync", std::strerror(errno));
  if (fd.close() != 0) return fail("write", std::strerror(errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return text({path, ": cannot rename ", tmp, " to it: ", why});
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd.valid() || ::fsync(dfd.get()) != 0)
    return text({path, ": written, but the folder ", dir, " could not be synced: ", std::strerror(errno)});
  return "";
}

}  // namespace b2bua::media
