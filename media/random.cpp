#include "media/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>

namespace b2bua::media {

uint64_t random_u64() {
  uint64_t value = 0;
  // Up to 256 bytes never return short once the pool is initialised (getrandom(2)); EINTR can
  // only come before that, at early boot.
  while (getrandom(&value, sizeof value, 0) != static_cast<ssize_t>(sizeof value)) {
    if (errno != EINTR) std::abort();  // no kernel CSPRNG: nothing safe to put on the wire
  }
  return value;
}

}  // namespace b2bua::media
