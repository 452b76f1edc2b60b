// A voice session: one leg facing a real peer (a phone or a provider) whose other end is b2bua
// itself. What b2bua says goes out through VoicePlayer, what the peer says is kept by
// VoiceRecorder while a recording runs, and its key presses are heard by DtmfDetector.
//
// The leg follows the relay's rules (relay_session.h, relay_leg.h): latching and source checks,
// RFC 6263 keep-alives, and the media timeout (no packet from the peer for the hold-aware
// timeout once its address is known). Media is due, and the latch hold-off starts, when the
// signalling plane gives the leg its remote: there is no second leg to wait for.
//
// Like RelaySession this is pure logic over its sockets: the worker reads datagrams and hands
// them to on_packet(), asks pump() for the packets due and sends them. Events leave through
// MediaEvents::on_voice on the worker thread. No allocation, lock or log per packet; a
// recording's buffer is reserved when it starts.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "media/clock.h"
#include "media/dtmf_detector.h"
#include "media/media_plane.h"
#include "media/relay_leg.h"
#include "media/voice_player.h"
#include "media/voice_recorder.h"

namespace b2bua::media {

class VoiceSession {
 public:
  // `events` gets on_voice() (and must outlive the session).
  VoiceSession(SessionId id, RelayLeg leg, TimeNs now, MediaEvents& events);

  SessionId id() const { return id_; }
  RelayLeg& leg() { return leg_; }
  const RelayLeg& leg() const { return leg_; }

  void set_remote(const RemoteMedia& remote, TimeNs now);
  // A payload type other than PCMU or PCMA is taken as PCMU: b2bua speaks nothing else.
  void set_format(const VoiceFormat& format);
  void play(AudioPtr audio, uint32_t tag) { player_.enqueue(std::move(audio), tag); }
  void stop_playing();
  // A recording already running ends first, as stopped.
  void record(const RecordSpec& spec, TimeNs now);
  void stop_recording();
  // The session goes away: a running recording reports End::released. Queued prompts are
  // dropped without played: on_released() ends everything about the session.
  void release();

  // One datagram received on `channel`: the reason it was dropped, or nothing when it came from
  // the peer. `latched` is set when the RTP source was (re)latched by it.
  std::optional<DropReason> on_packet(Channel channel, const sockaddr_storage& source, const uint8_t* data,
                                      size_t len, TimeNs now, const RelayTuning& tuning, bool& latched);

  // When the next prompt packet is due (VoicePlayer::kNever: nothing to send, or the peer does
  // not take media yet).
  TimeNs next_due(TimeNs now) const;
  // Sends the prompt packets due now (all of them, when the worker woke up late): calls
  // send(fd, destination, data, len), which returns whether the kernel took it.
  template <class Send>
  void pump(TimeNs now, Send&& send);

  template <class Send>
  void send_keepalives(TimeNs now, const RelayTuning& tuning, Send&& send) {
    send_leg_keepalives(leg_, now, tuning, send);
  }
  // The 100 ms housekeeping: a recording the peer's silence (or absence) ends.
  void on_tick(TimeNs now);
  // True once, when no packet came from the peer for the (hold-aware) timeout since its address
  // became known.
  bool timed_out(TimeNs now, const RelayTuning& tuning);

  // Leg 0 is the peer; leg 1 (b2bua) stays zero.
  std::array<LegStats, 2> stats() const { return {leg_.stats(), LegStats{}}; }

 private:
  bool may_send() const;
  void end_recording(Recording::End end);
  void report_played(uint32_t tag);
  void on_audio(uint32_t timestamp, const uint8_t* payload, size_t len, TimeNs now);

  // Largest G.711 frame decoded at once: packets up to 60 ms are one step, longer ones more.
  static constexpr size_t kDecodeChunk = 480;

  SessionId id_;
  RelayLeg leg_;
  MediaEvents& events_;
  VoiceFormat format_;
  VoicePlayer player_;
  VoiceRecorder recorder_;
  DtmfDetector dtmf_;
  Armed armed_;
  TimeNs last_activity_;
  bool timeout_reported_ = false;
  uint8_t out_[VoicePlayer::kMaxPacket]{};
  int16_t pcm_[kDecodeChunk]{};
};

template <class Send>
void VoiceSession::pump(TimeNs now, Send&& send) {
  if (!may_send()) return;
  const Endpoint& to = leg_.destination(kRtp);
  const int fd = leg_.sockets[kRtp].fd();
  bool sent = false;
  while (const size_t len = player_.next_packet(now, format_.payload_type, out_)) {
    if (send(fd, to, out_, len)) ++leg_.packets_sent;
    sent = true;
  }
  if (sent) leg_.last_tx[kRtp] = now;
  player_.report_played([this](uint32_t tag) { report_played(tag); });
}

}  // namespace b2bua::media
