#include "media/relay_session.h"

#include "media/random.h"

namespace b2bua::media {

RelaySession::RelaySession(SessionId id, std::array<RelayLeg, 2> legs, TimeNs now)
    : id_(id), legs_(std::move(legs)), last_activity_(now) {
  // Keep-alives carry their own SSRC so a receiver never mixes them into the peer's stream.
  for (auto& leg : legs_) seed_keepalive(leg);
}

void RelaySession::set_remote(int index, const RemoteMedia& remote, TimeNs now) {
  set_leg_remote(legs_[static_cast<size_t>(index)], remote, now);
  if (!armed_ && legs_[0].remote_known && legs_[1].remote_known) {
    armed_ = true;
    armed_at_ = now;
  }
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
  if (!in.remote_known ||
      !accept_source(in, channel, kind, source, header.ssrc, now, tuning, {armed_, armed_at_}, latched)) {
    ++in.dropped_source;
    return {.drop = DropReason::wrong_source};
  }
  note_received(in, kind, header, len, now);
  last_activity_ = now;

  const RelayLeg& out = legs_[static_cast<size_t>(1 - index)];
  if (!out.remote_known) return {.drop = DropReason::no_destination};
  // RTCP leaves on the RTCP socket unless the other peer multiplexes it (RFC 5761), which also
  // covers a call where only one side does.
  const Channel out_channel = (kind == PacketKind::rtp || out.remote.rtcp_mux) ? kRtp : kRtcp;
  const Endpoint& to = out.destination(out_channel);
  if (!to.valid()) return {.drop = DropReason::no_destination};
  return {.fd = out.sockets[out_channel].fd(), .to = &to, .rtcp = kind == PacketKind::rtcp};
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

}  // namespace b2bua::media
