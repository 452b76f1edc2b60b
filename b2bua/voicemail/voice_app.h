// A voice application: what runs when b2bua itself answers a call (the answering machine, the
// voicemail menu). The call that answered feeds it the voice session's events and asks done()
// before it ends; the application acts through its VoiceIo.
//
// Threads: SIP thread only.
#pragma once

#include <string>

#include "media/media_plane.h"

namespace b2bua::voicemail {

class VoiceApp {
 public:
  virtual ~VoiceApp() = default;
  // The caller has our 200: speak.
  virtual void start() = 0;
  virtual void on_played(uint32_t tag) = 0;
  virtual void on_dtmf(char digit) = 0;
  virtual void on_recorded(media::Recording recording) = 0;
  // The caller hung up (or the call ended otherwise): nothing more is played.
  virtual void on_caller_gone() = 0;
  // Nothing more is owed to the call (a recording to store): it may end.
  virtual bool done() const = 0;
  // For the call record's notes, e.g. "message", "no_message", "listened".
  virtual const std::string& outcome() const = 0;
};

}  // namespace b2bua::voicemail
