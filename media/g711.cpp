#include "media/g711.h"

// g711.h is not self-contained: it needs these two first (spandsp.h would pull in libtiff).
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

namespace b2bua::media {

int16_t alaw_to_pcm(uint8_t alaw) { return alaw_to_linear(alaw); }
int16_t ulaw_to_pcm(uint8_t ulaw) { return ulaw_to_linear(ulaw); }

}  // namespace b2bua::media
