// A call answered by b2bua itself (call_voicemail.cpp): the voice session it speaks on and the
// voice application (answering machine, voicemail menu), which the call drives with the
// session's events.
#pragma once

#include <memory>

#include "b2bua/calls/call.h"
#include "b2bua/voicemail/voice_app.h"
#include "b2bua/voicemail/voice_io.h"

namespace b2bua::calls {

struct Call::Machine final : voicemail::VoiceIo {
  Machine(Call& c, media::SessionId s) : call(c), session(s) {}
  void play(media::AudioPtr audio, uint32_t tag) override;
  void stop_playing() override;
  void record(const media::RecordSpec& spec) override;
  void stop_recording() override;
  void hang_up() override;

  Call& call;
  media::SessionId session;
  std::unique_ptr<voicemail::VoiceApp> app;
  bool caller_gone = false;
  bool outcome_noted = false;
  int refuse_code = 0;  // early media: the final answer after it
  const char* refuse_phrase = nullptr;
};

}  // namespace b2bua::calls
