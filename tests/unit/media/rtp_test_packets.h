// Hand-built RTP/RTCP datagrams for the media tests.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace b2bua::media::test {

inline std::vector<uint8_t> rtp_packet(uint16_t seq, uint32_t ts, uint32_t ssrc, uint8_t pt = 0,
                                       size_t payload = 160, bool marker = false) {
  std::array<uint8_t, 12> h{};
  h[0] = 0x80;
  h[1] = static_cast<uint8_t>((marker ? 0x80 : 0) | (pt & 0x7f));
  h[2] = static_cast<uint8_t>(seq >> 8);
  h[3] = static_cast<uint8_t>(seq);
  for (size_t i = 0; i < 4; ++i) {
    h[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
    h[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  }
  std::vector<uint8_t> p(h.begin(), h.end());
  p.resize(12 + payload, 0xd5);
  return p;
}

// A receiver report with no report blocks (8 bytes), from `ssrc`.
inline std::vector<uint8_t> rtcp_rr(uint32_t ssrc) {
  std::vector<uint8_t> p = {0x80, 201, 0, 1, 0, 0, 0, 0};
  for (int i = 0; i < 4; ++i) p[4 + static_cast<size_t>(i)] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  return p;
}

}  // namespace b2bua::media::test
