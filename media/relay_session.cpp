#include "media/relay_session.h"

#include <netinet/in.h>

#include <cstring>
#include <random>

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

bool same_address(const Endpoint& e, const sockaddr_storage& s) {
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

namespace {
Endpoint endpoint_of(const sockaddr_storage& s) {
  Endpoint e;
  e.addr = s;
  e.len = s.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  return e;
}
}  // namespace

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

RelaySession::RelaySession(SessionId id, std::array<RelayLeg, 2> legs, TimeNs now)
    : id_(id), legs_(std::move(legs)), last_activity_(now) {
  // Keep-alives carry their own SSRC so a receiver never mixes them into the peer's stream.
  std::random_device rd;
  for (auto& leg : legs_) {
    leg.keepalive_ssrc = rd();
    leg.keepalive_seq = static_cast<uint16_t>(rd());
  }
}

void RelaySession::set_remote(int index, const RemoteMedia& remote, TimeNs now) {
  RelayLeg& leg = legs_[static_cast<size_t>(index)];
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
  if (!armed_ && legs_[0].remote_known && legs_[1].remote_known) {
    armed_ = true;
    armed_at_ = now;
  }
}

bool RelaySession::accept_source(RelayLeg& leg, Channel channel, PacketKind kind,
                                 const sockaddr_storage& source, uint32_t ssrc, TimeNs now,
                                 const RelayTuning& tuning, bool& latched) {
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
      in_holdoff(l, now, tuning)) {
    return false;
  }
  const bool relatch = !l.latched || from_declared ||
                       (now - l.last_rx >= tuning.relatch_silence && defines_ssrc && ssrc == l.ssrc);
  if (!relatch) return false;
  l.peer = endpoint_of(source);
  l.latched = true;
  l.ssrc = ssrc;
  l.last_rx = now;
  latched = channel == kRtp;
  return true;
}

bool RelaySession::in_holdoff(const RelayLeg::Latch& latch, TimeNs now, const RelayTuning& tuning) const {
  if (!armed_) return true;  // no media is due yet: nothing but the SDP address may latch
  const TimeNs start = latch.opened_at > armed_at_ ? latch.opened_at : armed_at_;
  return now - start < tuning.latch_holdoff;
}

Forward RelaySession::on_packet(int index, Channel channel, const sockaddr_storage& source,
                                const uint8_t* data, size_t len, TimeNs now, const RelayTuning& tuning,
                                bool& latched) {
  RelayLeg& in = legs_[static_cast<size_t>(index)];
  RtpHeader header;
  const PacketKind kind = classify(data, len, channel == kRtcp, header);
  if (kind == PacketKind::invalid) {
    ++in.dropped_invalid;
    return {.drop = DropReason::malformed};
  }
  if (!in.remote_known || !accept_source(in, channel, kind, source, header.ssrc, now, tuning, latched)) {
    ++in.dropped_source;
    return {.drop = DropReason::wrong_source};
  }
  ++in.packets;
  in.bytes += len;
  last_activity_ = now;
  if (kind == PacketKind::rtp) {
    in.last_rtp = now;
    in.rtp_stats.on_packet(header.seq, header.timestamp, header.ssrc, now, in.remote.clock_rate);
  }

  const RelayLeg& out = legs_[static_cast<size_t>(1 - index)];
  if (!out.remote_known) return {.drop = DropReason::no_destination};
  // RTCP leaves on the RTCP socket unless the other peer multiplexes it (RFC 5761), which also
  // covers a call where only one side does.
  const Channel out_channel = (kind == PacketKind::rtp || out.remote.rtcp_mux) ? kRtp : kRtcp;
  const Endpoint& to = out.destination(out_channel);
  if (!to.valid()) return {.drop = DropReason::no_destination};
  return {.fd = out.sockets[out_channel].fd(), .to = &to};
}

void RelaySession::note_sent(int index, Channel channel, uint64_t count, TimeNs now) {
  RelayLeg& leg = legs_[static_cast<size_t>(index)];
  leg.packets_sent += count;
  leg.last_tx[channel] = now;
}

bool RelaySession::timed_out(TimeNs now, const RelayTuning& tuning) {
  if (!armed_ || timeout_reported_) return false;
  const bool held = legs_[0].remote.direction != Direction::sendrecv ||
                    legs_[1].remote.direction != Direction::sendrecv;
  const TimeNs since = last_activity_ > armed_at_ ? last_activity_ : armed_at_;
  if (now - since < (held ? tuning.hold_timeout : tuning.timeout)) return false;
  timeout_reported_ = true;
  return true;
}

int RelaySession::one_way(TimeNs now, const RelayTuning& tuning) {
  if (!armed_ || one_way_reported_ || tuning.one_way <= 0 || now - armed_at_ < tuning.one_way) return -1;
  // A call on hold is no alarm, whoever holds: a phone that holds with sendonly often sends
  // nothing, and a peer that answered recvonly may go on sending all the same.
  if (legs_[0].remote.direction != Direction::sendrecv || legs_[1].remote.direction != Direction::sendrecv) {
    return -1;
  }
  auto heard = [&](const RelayLeg& leg) { return leg.last_rtp != 0 && now - leg.last_rtp < tuning.one_way; };
  for (int silent = 0; silent < 2; ++silent) {
    const RelayLeg& quiet = legs_[static_cast<size_t>(silent)];
    const RelayLeg& other = legs_[static_cast<size_t>(1 - silent)];
    if (heard(quiet) || !heard(other) || now - quiet.latch[kRtp].opened_at < tuning.one_way) continue;
    one_way_reported_ = true;
    return silent;
  }
  return -1;
}

size_t RelaySession::build_keepalive(RelayLeg& leg, Channel channel, uint8_t* buf) {
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
