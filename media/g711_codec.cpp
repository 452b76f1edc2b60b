#include "media/g711_codec.h"

#include <spandsp.h>

namespace b2bua::media {

void g711_encode(uint8_t payload_type, const int16_t* samples, size_t count, uint8_t* out) {
  if (payload_type == kPayloadPcmu) {
    for (size_t i = 0; i < count; ++i) out[i] = linear_to_ulaw(samples[i]);
  } else {
    for (size_t i = 0; i < count; ++i) out[i] = linear_to_alaw(samples[i]);
  }
}

int16_t g711_sample(uint8_t payload_type, uint8_t octet) {
  return payload_type == kPayloadPcmu ? ulaw_to_linear(octet) : alaw_to_linear(octet);
}

void g711_decode(uint8_t payload_type, const uint8_t* octets, size_t count, int16_t* out) {
  if (payload_type == kPayloadPcmu) {
    for (size_t i = 0; i < count; ++i) out[i] = ulaw_to_linear(octets[i]);
  } else {
    for (size_t i = 0; i < count; ++i) out[i] = alaw_to_linear(octets[i]);
  }
}

}  // namespace b2bua::media
