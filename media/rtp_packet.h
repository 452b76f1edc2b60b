// RTP/RTCP packet validation. Every check is bounded by the datagram's length before a field is
// read: a truncated or garbage datagram is classified invalid, never parsed past its end.
#pragma once

#include <cstddef>
#include <cstdint>

namespace b2bua::media {

enum class PacketKind : uint8_t { invalid, rtp, rtcp };

struct RtpHeader {
  uint16_t seq = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;  // for RTCP: the sender's SSRC (second word of the first packet)
};

inline uint16_t read_be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t read_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// RFC 3550 §5.1: version 2, fixed header, CSRC list, extension and padding inside the datagram.
inline bool valid_rtp(const uint8_t* p, size_t len) {
  if (len < 12 || (p[0] >> 6) != 2) return false;
  size_t header = 12 + 4 * size_t{p[0] & 0x0fu};
  if (p[0] & 0x10u) {  // header extension: 4-byte header, then length in 32-bit words
    if (len < header + 4) return false;
    header += 4 + 4 * size_t{read_be16(p + header + 2)};
  }
  if (len < header) return false;
  if (p[0] & 0x20u) {  // padding: the last octet counts the padding, itself included
    const size_t pad = p[len - 1];
    if (pad == 0 || header + pad > len) return false;
  }
  return true;
}

// The payload of a packet valid_rtp() accepted: after the CSRC list and the header extension,
// before the padding.
struct RtpPayload {
  uint8_t payload_type = 0;
  bool marker = false;
  const uint8_t* data = nullptr;
  size_t len = 0;
};
inline RtpPayload rtp_payload(const uint8_t* p, size_t len) {
  size_t header = 12 + 4 * size_t{p[0] & 0x0fu};
  if (p[0] & 0x10u) header += 4 + 4 * size_t{read_be16(p + header + 2)};
  const size_t pad = (p[0] & 0x20u) ? p[len - 1] : 0;
  return {static_cast<uint8_t>(p[1] & 0x7f), (p[1] & 0x80) != 0, p + header, len - header - pad};
}

// RFC 3550 §6.4: version 2, a control packet type, first packet's length inside the datagram.
inline bool valid_rtcp(const uint8_t* p, size_t len) {
  if (len < 8 || (p[0] >> 6) != 2) return false;
  if (p[1] < 192 || p[1] > 223) return false;
  const size_t first = (size_t{read_be16(p + 2)} + 1) * 4;
  return first <= len;
}

// What arrived on a socket. On an RTP socket RTCP may be multiplexed (RFC 5761 §4: the second
// octet 192..223 is an RTCP packet type, never an RTP marker+payload type in use).
inline PacketKind classify(const uint8_t* p, size_t len, bool rtcp_socket, RtpHeader& out) {
  const bool looks_rtcp = rtcp_socket || (len >= 2 && p[1] >= 192 && p[1] <= 223);
  if (looks_rtcp) {
    if (!valid_rtcp(p, len)) return PacketKind::invalid;
    out.ssrc = read_be32(p + 4);
    return PacketKind::rtcp;
  }
  if (!valid_rtp(p, len)) return PacketKind::invalid;
  out.seq = read_be16(p + 2);
  out.timestamp = read_be32(p + 4);
  out.ssrc = read_be32(p + 8);
  return PacketKind::rtp;
}

}  // namespace b2bua::media
