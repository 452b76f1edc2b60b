// G.711 (RFC 3551 section 4.5.14): the two payload types a voice session speaks, PCMU (0) and
// PCMA (8), one octet per 8 kHz sample. The tables are spandsp's; these loops are the packet
// path: no allocation.
#pragma once

#include <cstddef>
#include <cstdint>

namespace b2bua::media {

inline constexpr uint8_t kPayloadPcmu = 0;
inline constexpr uint8_t kPayloadPcma = 8;
inline constexpr uint8_t kPayloadComfortNoise = 13;  // RFC 3389

inline bool is_g711(uint8_t payload_type) { return payload_type == kPayloadPcmu || payload_type == kPayloadPcma; }

// `count` samples into `count` octets of `payload_type` (PCMA when not PCMU).
void g711_encode(uint8_t payload_type, const int16_t* samples, size_t count, uint8_t* out);
// One octet of `payload_type` (A-law and mu-law WAV files too).
int16_t g711_sample(uint8_t payload_type, uint8_t octet);
// `count` octets of `payload_type` into `count` samples.
void g711_decode(uint8_t payload_type, const uint8_t* octets, size_t count, int16_t* out);

}  // namespace b2bua::media
