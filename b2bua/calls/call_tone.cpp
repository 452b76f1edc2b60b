// Tones instead of silence: when b2bua itself refuses a LAN phone's call (the extension called
// is busy and no rule takes the call, no trunk can carry it out), the phone first hears the
// country's busy or congestion tone (media/tones.h) as early media, for a few seconds, and
// then gets the final answer (486, 503). A phone that shows nothing for a bare 486 still tells
// its user; one that plays its own tone for the final answer simply plays ours first. Only LAN
// phones: a provider's caller hears its own network's tones.
#include "b2bua/calls/call_machine.h"
#include "b2bua/calls/call_manager.h"
#include "b2bua/common/log.h"
#include "b2bua/voicemail/voice_app.h"

namespace b2bua::calls {
namespace {

constexpr int kToneSeconds = 4;

// Plays one tone and hangs up, which for early media sends the final answer.
class ToneApp final : public voicemail::VoiceApp {
 public:
  ToneApp(voicemail::VoiceIo& io, media::AudioPtr tone) : io_(io), tone_(std::move(tone)) {}
  void start() override { io_.play(tone_, 1); }
  void on_played(uint32_t tag) override {
    if (tag == 1) io_.hang_up();
  }
  void on_dtmf(char) override {}
  void on_recorded(media::Recording) override {}
  void on_caller_gone() override {}
  bool done() const override { return true; }
  const std::string& outcome() const override { return outcome_; }

 private:
  voicemail::VoiceIo& io_;
  media::AudioPtr tone_;
  std::string outcome_ = "tone";
};

}  // namespace

bool Call::refuse_with_tone(int code, const char* phrase, media::Tone tone) {
  if (&a->agent != manager.context().lan || a->answered || ending_ || machine_ || !config->calls.tones ||
      !manager.context().media) {
    return false;
  }
  const std::string& country = config->calls.tone_country.empty() ? config->routing.country : config->calls.tone_country;
  media::AudioPtr audio = media::supervisory_tone(tone, country, kToneSeconds);
  if (!audio) return false;
  B2BUA_LOG(info, "calls", "refused_with_tone", {{"call", id}, {"tone", media::tone_name(tone)}, {"status", code}});
  AppMaker make = [audio](voicemail::VoiceIo& io) { return std::make_unique<ToneApp>(io, audio); };
  const std::string note = std::string("tone=") + media::tone_name(tone);
  if (!started_) {
    machine_at_start_ = MachineStart{std::move(make), note, code, phrase};
    return true;
  }
  return answer_by_machine(make, note, record.extension, code, phrase);
}

}  // namespace b2bua::calls
