// One relayed call: two legs, each with its own RTP and RTCP socket on its side's address.
// A packet arriving on leg L from L's peer leaves through the other leg's socket towards the
// other leg's peer. The session is pure logic over its sockets: the worker does the I/O in
// batches and hands every datagram to on_packet(), which decides (no allocation, no lock, no log).
//
// Latching (symmetric RTP): a leg sends to the source its peer's packets really come from, not to
// what the SDP said (phones behind a second NAT, providers behind media proxies):
//   - Before the signalling plane gave a leg its remote (set_remote) nobody is expected there:
//     every packet is dropped and counted as wrong source (RTP bleed on idle ports).
//   - Hold-off: media is due once both legs know their remote (the session is armed). Until then
//     and for latch_holdoff after it (or after a re-INVITE moved the leg's SDP address), only a
//     packet from exactly the address the SDP named for this socket latches; others are dropped
//     as wrong source. A peer that sends from its SDP address wins even against a stranger
//     spraying the (WAN) port from the start. Without a usable SDP address (c=0.0.0.0, or a
//     private one on a WAN leg: sdp_names_source) there is nothing to wait for.
//   - After the hold-off the first valid packet latches its source, so a peer behind a NAT whose
//     SDP names its private address still gets media (symmetric RTP). Once latched the source is
//     strict: packets from anywhere else are dropped and counted.
//   - Re-latch rule: another source replaces the latched peer only if
//       (a) it is exactly the address the SDP named for this socket (the peer's own declaration
//           wins over an early injector that latched first), or
//       (b) the latched peer has been silent for at least relatch_silence AND the packet carries
//           the SSRC last seen from the latched peer (a NAT rebinding or a peer that changed port
//           keeps its SSRC; an injector would have to guess 32 bits it never sees, because the
//           peer's packets go only to the other leg).
//   - set_remote with a different address (re-INVITE) forgets the latch.
// RTCP latches on its own socket with the same rules; with rtcp-mux it travels on the RTP socket.
// The rules are implemented per leg in relay_leg.h, where a voice session's leg uses them too.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "media/clock.h"
#include "media/media_plane.h"
#include "media/relay_leg.h"
#include "media/rtp_packet.h"

namespace b2bua::media {

// Where on_packet() wants a datagram to go. fd < 0: drop it, for the reason in `drop`.
struct Forward {
  int fd = -1;
  const Endpoint* to = nullptr;
  DropReason drop = DropReason::no_destination;
  bool rtcp = false;  // an RTCP packet (on its own socket or multiplexed)
};

class RelaySession {
 public:
  RelaySession(SessionId id, std::array<RelayLeg, 2> legs, TimeNs now);

  SessionId id() const { return id_; }
  RelayLeg& leg(int i) { return legs_[static_cast<size_t>(i)]; }
  const RelayLeg& leg(int i) const { return legs_[static_cast<size_t>(i)]; }

  void set_remote(int leg, const RemoteMedia& remote, TimeNs now);

  // One datagram received on `leg`'s socket `channel`. `latched` is set when the RTP source of
  // that leg was (re)latched by this packet, so the caller reports it.
  Forward on_packet(int leg, Channel channel, const sockaddr_storage& source, const uint8_t* data,
                    size_t len, TimeNs now, const RelayTuning& tuning, bool& latched);
  // The caller managed to send `count` packets that on_packet() routed to `leg`'s peer.
  void note_sent(int leg, Channel channel, uint64_t count, TimeNs now);

  // RFC 6263 keep-alives due now: calls send(fd, destination, data, len) for each.
  template <class Send>
  void send_keepalives(TimeNs now, const RelayTuning& tuning, Send&& send);

  // True once, when no packet arrived on either leg for the (hold-aware) timeout. The clock
  // starts when both legs know their remote: a ringing call has no media yet.
  bool timed_out(TimeNs now, const RelayTuning& tuning);

  // One-way audio, reported once per session: the leg (0 or 1) from whose peer no RTP came for
  // tuning.one_way while RTP from the other leg's peer keeps coming, both sides sendrecv; -1
  // when there is none. A call on hold (either side not sendrecv), or silence suppression with
  // comfort noise (CN packets keep coming), is no alarm; the clock starts when media is due,
  // and again for a leg a re-INVITE moved.
  int one_way(TimeNs now, const RelayTuning& tuning);

  std::array<LegStats, 2> stats() const { return {legs_[0].stats(), legs_[1].stats()}; }

 private:
  SessionId id_;
  std::array<RelayLeg, 2> legs_;
  TimeNs last_activity_;
  TimeNs armed_at_ = 0;
  bool armed_ = false;
  bool timeout_reported_ = false;
  bool one_way_reported_ = false;
};

template <class Send>
void RelaySession::send_keepalives(TimeNs now, const RelayTuning& tuning, Send&& send) {
  for (auto& leg : legs_) send_leg_keepalives(leg, now, tuning, send);
}

}  // namespace b2bua::media
