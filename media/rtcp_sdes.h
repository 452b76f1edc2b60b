// RTCP source descriptions (SDES, RFC 3550 §6.5) blanked in place before the relay forwards a
// compound RTCP packet to the WAN side. Phones put their identity there: CNAME "user@host" names
// the phone's account at our LAN address (baresip "sip:10@192.168.50.2:5060", linphone the same
// without the port), TOOL the phone's make and version ("Linphonec/5.1.65"), and a relay that
// forwards RTCP verbatim hands all of it to the provider, past everything the SIP side hides.
// Every item's text is overwritten with the hex digits of its chunk's SSRC, repeated to the
// item's length: the packet keeps its layout and lengths (no rebuild, no reallocation), the
// CNAME stays stable per SSRC as §6.5.1 requires, and it no longer says who or where (the
// privacy concern of RFC 7022 §4). Other packet types (SR, RR, BYE, APP) pass unchanged.
//
// Called by the media worker thread on the receive buffer of a packet it is about to send;
// bounded by `len` everywhere: a malformed packet is left as far as it could be read.
#pragma once

#include <cstddef>
#include <cstdint>

#include "media/rtp_packet.h"

namespace b2bua::media {

inline void blank_rtcp_sdes(uint8_t* p, size_t len) {
  static constexpr char kHex[] = "0123456789abcdef";
  constexpr uint8_t kSdes = 202;
  size_t at = 0;
  while (at + 4 <= len) {
    uint8_t* packet = p + at;
    if ((packet[0] >> 6) != 2) return;
    const size_t size = (size_t{read_be16(packet + 2)} + 1) * 4;
    if (at + size > len) return;
    if (packet[1] == kSdes) {
      const size_t chunks = packet[0] & 0x1fu;
      size_t c = 4;
      for (size_t chunk = 0; chunk < chunks && c + 4 <= size; ++chunk) {
        const uint8_t* ssrc = packet + c;
        c += 4;
        // Items until the END item (type 0); the chunk is then padded to a 32-bit boundary.
        while (c < size && packet[c] != 0) {
          if (c + 2 > size) return;
          const size_t n = packet[c + 1];
          if (c + 2 + n > size) return;
          for (size_t i = 0; i < n; ++i) {
            const uint8_t b = ssrc[(i / 2) % 4];
            packet[c + 2 + i] = static_cast<uint8_t>(kHex[i % 2 == 0 ? b >> 4 : b & 0x0fu]);
          }
          c += 2 + n;
        }
        c = (c + 4) & ~size_t{3};  // past the END octet and the padding
      }
    }
    at += size;
  }
}

}  // namespace b2bua::media
