#include "media/relay_leg.h"

#include "media/random.h"

namespace b2bua::media {

RelayTuning RelayTuning::from(const MediaSettings& s) {
  RelayTuning t;
  t.timeout = TimeNs{s.timeout_s} * kNsPerSec;
  t.hold_timeout = TimeNs{s.hold_timeout_s} * kNsPerSec;
  t.relatch_silence = TimeNs{s.relatch_silence_ms} * kNsPerMs;
  t.keepalive = TimeNs{s.keepalive_ms} * kNsPerMs;
  t.latch_holdoff = TimeNs{s.latch_holdoff_ms} * kNsPerMs;
  t.one_way = TimeNs{s.one_way_s} * kNsPerSec;
  return t;
}

const Endpoint& RelayLeg::destination(Channel channel) const {
  if (latch[channel].latched) return latch[channel].peer;
  return channel == kRtp ? remote.rtp : remote.rtcp;
}

LegStats RelayLeg::stats() const {
  LegStats s;
  s.packets = packets;
  s.bytes = bytes;
  s.packets_sent = packets_sent;
  s.lost = rtp_stats.lost();
  s.out_of_order = rtp_stats.out_of_order();
  s.dropped_source = dropped_source;
  s.dropped_invalid = dropped_invalid;
  s.jitter_ms = rtp_stats.jitter_ms(remote.clock_rate);
  if (latch[kRtp].latched) s.latched = latch[kRtp].peer;
  return s;
}

void seed_keepalive(RelayLeg& leg) {
  const uint64_t r = random_u64();
  leg.keepalive_ssrc = static_cast<uint32_t>(r);
  leg.keepalive_seq = static_cast<uint16_t>(r >> 32);
}

void set_leg_remote(RelayLeg& leg, const RemoteMedia& remote, TimeNs now) {
  RemoteMedia r = remote;
  if (!r.rtcp_mux && !r.rtcp.valid() && r.rtp.valid()) {
    Endpoint::parse(r.rtp.ip(), static_cast<uint16_t>(r.rtp.port() + 1), r.rtcp);  // RFC 3605 default
  }
  auto reopen = [&](RelayLeg::Latch& l) {
    l = {};
    l.opened_at = now;
  };
  if (!leg.remote_known || !(leg.remote.rtp == r.rtp)) reopen(leg.latch[kRtp]);
  if (!leg.remote_known || !(leg.remote.rtcp == r.rtcp) || leg.remote.rtcp_mux != r.rtcp_mux) {
    reopen(leg.latch[kRtcp]);
  }
  leg.remote = r;
  leg.remote_known = true;
  // RFC 6263 / NAT: open our mapping towards the peer at once; its media can then reach us.
  leg.keepalive_due = {true, true};
}

size_t build_keepalive(RelayLeg& leg, Channel channel, uint8_t* buf) {
  const uint32_t ssrc = leg.keepalive_ssrc;
  if (channel == kRtcp) {
    // An empty receiver report (RFC 3550 §6.4.2): valid RTCP, reports nothing.
    buf[0] = 0x80;
    buf[1] = 201;
    buf[2] = 0;
    buf[3] = 1;
  } else {
    // RFC 6263 §4.2: an RTP packet with a payload type the call does not use (20 is unassigned,
    // RFC 3551) and no payload; receivers discard it, NATs and firewalls see traffic.
    const uint16_t seq = leg.keepalive_seq++;
    buf[0] = 0x80;
    buf[1] = 20;
    buf[2] = static_cast<uint8_t>(seq >> 8);
    buf[3] = static_cast<uint8_t>(seq);
    std::memset(buf + 4, 0, 4);  // timestamp
  }
  const size_t at = channel == kRtcp ? 4 : 8;
  buf[at] = static_cast<uint8_t>(ssrc >> 24);
  buf[at + 1] = static_cast<uint8_t>(ssrc >> 16);
  buf[at + 2] = static_cast<uint8_t>(ssrc >> 8);
  buf[at + 3] = static_cast<uint8_t>(ssrc);
  return channel == kRtcp ? 8 : 12;
}

}  // namespace b2bua::media
