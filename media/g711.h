// G.711 decoding for A-law and mu-law WAV files (wav.cpp), with spandsp's tables. Kept in a file
// of its own because spandsp's headers define macros (SAMPLE_RATE, TRUE, ...) that must not leak
// into other code.
#pragma once

#include <cstdint>

namespace b2bua::media {

int16_t alaw_to_pcm(uint8_t alaw);
int16_t ulaw_to_pcm(uint8_t ulaw);

}  // namespace b2bua::media
