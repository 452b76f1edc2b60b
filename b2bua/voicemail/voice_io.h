// What a voice application (the answering machine, the voicemail menu) asks of the call it
// runs in, and what it is told back. The call owns the SIP dialog and the media session; the
// application owns none of it, so it can be driven by a unit test as well as by a call.
//
// Threads: SIP thread only. Every command is queued to the media plane and returns at once;
// its outcome comes back as an event (played, recorded, a digit).
#pragma once

#include <cstdint>

#include "media/media_plane.h"

namespace b2bua::voicemail {

class VoiceIo {
 public:
  virtual ~VoiceIo() = default;
  // Queued after what plays; the application's on_played(tag) follows.
  virtual void play(media::AudioPtr audio, uint32_t tag) = 0;
  // Drops what plays and what is queued: each dropped prompt still reports on_played.
  virtual void stop_playing() = 0;
  virtual void record(const media::RecordSpec& spec) = 0;
  // The application's on_recorded follows with what was heard.
  virtual void stop_recording() = 0;
  // Ends the call from our side (BYE). The application hears nothing more but a recording
  // still owed to it.
  virtual void hang_up() = 0;
};

}  // namespace b2bua::voicemail
