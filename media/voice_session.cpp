#include "media/voice_session.h"

#include <algorithm>
#include "media/random.h"

#include "media/g711_codec.h"

namespace b2bua::media {

namespace {
// RFC 3550 section 5.1: the SSRC, the first sequence number and the timestamp origin are
// random, so a stream cannot be guessed or confused with an earlier one.
VoicePlayer random_player(TimeNs now) {
  const uint64_t r = random_u64();
  return VoicePlayer(static_cast<uint32_t>(r), static_cast<uint16_t>(r >> 32), random_u32(), now);
}
}  // namespace

VoiceSession::VoiceSession(SessionId id, RelayLeg leg, TimeNs now, MediaEvents& events)
    : id_(id), leg_(std::move(leg)), events_(events), player_(random_player(now)), last_activity_(now) {
  seed_keepalive(leg_);
}

void VoiceSession::set_remote(const RemoteMedia& remote, TimeNs now) {
  set_leg_remote(leg_, remote, now);
  if (!armed_.armed) armed_ = {true, now};
}

void VoiceSession::set_format(const VoiceFormat& format) {
  format_ = format;
  if (!is_g711(format_.payload_type)) format_.payload_type = kPayloadPcmu;
}

bool VoiceSession::may_send() const {
  // RFC 3264 section 6.1: nothing goes to a peer that said sendonly or inactive.
  return leg_.remote_known && leg_.destination(kRtp).valid() &&
         (leg_.remote.direction == Direction::sendrecv || leg_.remote.direction == Direction::recvonly);
}

TimeNs VoiceSession::next_due(TimeNs now) const {
  return may_send() ? player_.next_due(now) : VoicePlayer::kNever;
}

void VoiceSession::report_played(uint32_t tag) {
  VoiceEvent e;
  e.kind = VoiceEvent::Kind::played;
  e.tag = tag;
  events_.on_voice(id_, std::move(e));
}

void VoiceSession::stop_playing() {
  player_.report_played([this](uint32_t tag) { report_played(tag); });
  player_.stop([this](uint32_t tag) { report_played(tag); });
}

void VoiceSession::end_recording(Recording::End end) {
  VoiceEvent e;
  e.kind = VoiceEvent::Kind::recorded;
  e.recording = recorder_.finish(end);
  events_.on_voice(id_, std::move(e));
}

void VoiceSession::record(const RecordSpec& spec, TimeNs now) {
  if (recorder_.active()) end_recording(Recording::End::stopped);
  recorder_.start(spec, now);
}

void VoiceSession::stop_recording() {
  if (recorder_.active()) end_recording(Recording::End::stopped);
}

void VoiceSession::release() {
  if (recorder_.active()) end_recording(Recording::End::released);
}

void VoiceSession::on_tick(TimeNs now) {
  if (const auto end = recorder_.on_tick(now)) end_recording(*end);
}

bool VoiceSession::timed_out(TimeNs now, const RelayTuning& tuning) {
  if (!armed_.armed || timeout_reported_) return false;
  const bool held = leg_.remote.direction != Direction::sendrecv;
  const TimeNs since = std::max(last_activity_, armed_.at);
  if (now - since < (held ? tuning.hold_timeout : tuning.timeout)) return false;
  timeout_reported_ = true;
  return true;
}

std::optional<DropReason> VoiceSession::on_packet(Channel channel, const sockaddr_storage& source,
                                                  const uint8_t* data, size_t len, TimeNs now,
                                                  const RelayTuning& tuning, bool& latched) {
  RtpHeader header;
  const PacketKind kind = classify(data, len, channel == kRtcp, header);
  if (kind == PacketKind::invalid) {
    ++leg_.dropped_invalid;
    return DropReason::malformed;
  }
  if (!leg_.remote_known || !accept_source(leg_, channel, kind, source, header.ssrc, now, tuning, armed_, latched)) {
    ++leg_.dropped_source;
    return DropReason::wrong_source;
  }
  note_received(leg_, kind, header, len, now);
  last_activity_ = now;
  if (kind != PacketKind::rtp) return std::nullopt;  // RTCP: counted, nothing to hear

  const RtpPayload payload = rtp_payload(data, len);
  if (format_.dtmf_payload_type >= 0 && payload.payload_type == format_.dtmf_payload_type) {
    if (const auto digit = dtmf_.on_event(header.timestamp, payload.data, payload.len, now)) {
      VoiceEvent e;
      e.kind = VoiceEvent::Kind::dtmf;
      e.digit = *digit;
      events_.on_voice(id_, std::move(e));
    }
  } else if (payload.payload_type == format_.payload_type && is_g711(payload.payload_type)) {
    on_audio(header.timestamp, payload.data, payload.len, now);
  } else if (payload.payload_type == kPayloadComfortNoise) {
    if (const auto end = recorder_.on_comfort_noise(header.timestamp, now)) end_recording(*end);
  }
  // Other payload types (keep-alives, a codec we did not answer with) are not heard.
  return std::nullopt;
}

void VoiceSession::on_audio(uint32_t timestamp, const uint8_t* payload, size_t len, TimeNs now) {
  for (size_t at = 0; at < len; at += kDecodeChunk) {
    const size_t n = std::min(kDecodeChunk, len - at);
    g711_decode(format_.payload_type, payload + at, n, pcm_);
    dtmf_.on_audio(pcm_, n, now, [this](char digit) {
      VoiceEvent e;
      e.kind = VoiceEvent::Kind::dtmf;
      e.digit = digit;
      events_.on_voice(id_, std::move(e));
    });
    if (const auto end = recorder_.on_audio(timestamp + static_cast<uint32_t>(at), pcm_, n, now)) {
      end_recording(*end);
    }
  }
}

}  // namespace b2bua::media
