// One end of a media session facing a peer: its RTP/RTCP sockets, what the SDP said about the
// peer, and the latch that decides which source the peer's packets really come from. Shared by
// the two kinds of session: a relay (RelaySession, two legs) and a voice session (VoiceSession,
// one leg whose other end is b2bua itself). The latching rules are written down once, in
// relay_session.h; the functions here implement them for one leg.
//
// Threading: a leg belongs to the worker thread that owns its session. Everything here runs on
// the packet path: no allocation, no lock, no log.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "media/clock.h"
#include "media/media_plane.h"
#include "media/rtp_packet.h"
#include "media/rtp_receiver_stats.h"
#include "media/udp_socket.h"

namespace b2bua::media {

enum Channel : uint8_t { kRtp = 0, kRtcp = 1 };

struct RelayTuning {
  TimeNs timeout = 60 * kNsPerSec;
  TimeNs hold_timeout = 3600 * kNsPerSec;
  TimeNs relatch_silence = 2 * kNsPerSec;
  TimeNs keepalive = 15 * kNsPerSec;
  TimeNs latch_holdoff = 1 * kNsPerSec;
  TimeNs one_way = 5 * kNsPerSec;
  static RelayTuning from(const MediaSettings& s);
};

// Same transport address as `e`? Compared field by field: this runs for every packet.
inline bool same_address(const Endpoint& e, const sockaddr_storage& s) {
  if (e.addr.ss_family != s.ss_family) return false;
  if (s.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(e.addr);
    const auto& b = reinterpret_cast<const sockaddr_in&>(s);
    return a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr;
  }
  if (s.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(e.addr);
    const auto& b = reinterpret_cast<const sockaddr_in6&>(s);
    return a.sin6_port == b.sin6_port && std::memcmp(&a.sin6_addr, &b.sin6_addr, sizeof a.sin6_addr) == 0;
  }
  return false;
}

// When media became due for a session (both relay legs know their remote; a voice leg knows
// its remote): the latch hold-off counts from then.
struct Armed {
  bool armed = false;
  TimeNs at = 0;
};

struct RelayLeg {
  std::string ip;
  Side side = Side::lan;
  uint16_t rtp_port = 0;
  std::array<UdpSocket, 2> sockets;  // [kRtp], [kRtcp]

  RemoteMedia remote;
  bool remote_known = false;

  struct Latch {
    Endpoint peer;
    uint32_t ssrc = 0;
    TimeNs last_rx = 0;
    TimeNs opened_at = 0;  // when set_remote gave this socket a new SDP address: hold-off start
    bool latched = false;
  };
  std::array<Latch, 2> latch;

  RtpReceiverStats rtp_stats;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t packets_sent = 0;
  uint64_t dropped_source = 0;
  uint64_t dropped_invalid = 0;
  TimeNs last_rtp = 0;                 // last RTP packet taken from the peer (0: none yet)
  std::array<TimeNs, 2> last_tx{};     // last packet sent to the peer per socket
  std::array<bool, 2> keepalive_due{}; // send one at the next tick (remote just learned)

  uint32_t keepalive_ssrc = 0;
  uint16_t keepalive_seq = 0;

  // Where this leg's peer receives packets of `channel` (the latched source, else the SDP).
  const Endpoint& destination(Channel channel) const;
  LegStats stats() const;
};

// Keep-alives carry their own SSRC so a receiver never mixes them into the peer's stream.
void seed_keepalive(RelayLeg& leg);

// The peer of `leg` sends/receives at `remote` now (offer/answer or re-INVITE): a moved SDP
// address forgets the latch and opens a new hold-off, and a keep-alive is due at once.
void set_leg_remote(RelayLeg& leg, const RemoteMedia& remote, TimeNs now);

// Is `latch` still in its hold-off, when only the SDP address may latch it?
inline bool in_holdoff(const RelayLeg::Latch& latch, TimeNs now, const RelayTuning& tuning, Armed armed) {
  if (!armed.armed) return true;  // no media is due yet: nothing but the SDP address may latch
  const TimeNs start = latch.opened_at > armed.at ? latch.opened_at : armed.at;
  return now - start < tuning.latch_holdoff;
}

// Is the source of a packet on `leg`'s socket `channel` the leg's peer (relay_session.h)?
// Latches or re-latches as the rules say; `latched` is set when the RTP source was (re)latched.
// Inline, like same_address(): it runs for every packet of both kinds of session.
inline bool accept_source(RelayLeg& leg, Channel channel, PacketKind kind, const sockaddr_storage& source,
                          uint32_t ssrc, TimeNs now, const RelayTuning& tuning, Armed armed, bool& latched) {
  RelayLeg::Latch& l = leg.latch[channel];
  // On the RTP socket only RTP packets define the expected SSRC (a multiplexed RR may carry
  // the receiver's own SSRC in a one-way call).
  const bool defines_ssrc = (channel == kRtp) == (kind == PacketKind::rtp);
  if (l.latched && same_address(l.peer, source)) {
    if (defines_ssrc) l.ssrc = ssrc;
    l.last_rx = now;
    return true;
  }
  const Endpoint& declared = channel == kRtp ? leg.remote.rtp : leg.remote.rtcp;
  const bool from_declared = same_address(declared, source);
  if (!l.latched && !from_declared && leg.remote.sdp_names_source && declared.valid() &&
      in_holdoff(l, now, tuning, armed)) {
    return false;
  }
  const bool relatch = !l.latched || from_declared ||
                       (now - l.last_rx >= tuning.relatch_silence && defines_ssrc && ssrc == l.ssrc);
  if (!relatch) return false;
  l.peer.addr = source;
  l.peer.len = source.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  l.latched = true;
  l.ssrc = ssrc;
  l.last_rx = now;
  latched = channel == kRtp;
  return true;
}

// Counts a packet accept_source() took from the peer.
inline void note_received(RelayLeg& leg, PacketKind kind, const RtpHeader& header, size_t len, TimeNs now) {
  ++leg.packets;
  leg.bytes += len;
  if (kind == PacketKind::rtp) {
    leg.last_rtp = now;
    leg.rtp_stats.on_packet(header.seq, header.timestamp, header.ssrc, now, leg.remote.clock_rate);
  }
}

// RFC 6263 keep-alive for `channel` into `buf` (12 bytes at most); returns its length.
size_t build_keepalive(RelayLeg& leg, Channel channel, uint8_t* buf);

// Keep-alives due now on `leg`: calls send(fd, destination, data, len) for each.
template <class Send>
void send_leg_keepalives(RelayLeg& leg, TimeNs now, const RelayTuning& tuning, Send&& send) {
  if (!leg.remote_known) return;
  for (Channel ch : {kRtp, kRtcp}) {
    if (ch == kRtcp && leg.remote.rtcp_mux) continue;
    const Endpoint& to = leg.destination(ch);
    if (!to.valid()) continue;
    if (!leg.keepalive_due[ch] && now - leg.last_tx[ch] < tuning.keepalive) continue;
    uint8_t buf[12];
    const size_t len = build_keepalive(leg, ch, buf);
    send(leg.sockets[ch].fd(), to, buf, len);
    leg.keepalive_due[ch] = false;
    leg.last_tx[ch] = now;
  }
}

}  // namespace b2bua::media
