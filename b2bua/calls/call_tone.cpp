// Tones and announcements instead of silence: when b2bua itself refuses a LAN phone's call, the
// phone first hears why as early media (183), then gets the final answer:
//   - the country's busy tone (media/tones.h) for a busy extension no rule takes the call for,
//     the congestion tone when no trunk can carry the call out (486, 503), for a few seconds;
//   - a short spoken announcement when our own rules refuse the number (a deny rule, a
//     destination class the extension may not call, no outbound route: 403/404) or when the
//     answering machine that should take the call is full (486).
// A phone that shows nothing for a bare 4xx/5xx still tells its user; one that plays its own
// tone for the final answer simply plays ours first. Only LAN phones: a provider's caller
// hears its own network's tones, and a refusal there costs nothing to announce.
#include "b2bua/calls/call_machine.h"
#include "b2bua/calls/call_manager.h"
#include "b2bua/common/log.h"
#include "b2bua/voicemail/voice_app.h"

namespace b2bua::calls {
namespace {

constexpr int kToneSeconds = 4;

// Plays one piece of audio and hangs up, which for early media sends the final answer.
class PlayThenRefuse final : public voicemail::VoiceApp {
 public:
  PlayThenRefuse(voicemail::VoiceIo& io, media::AudioPtr audio, std::string outcome)
      : io_(io), audio_(std::move(audio)), outcome_(std::move(outcome)) {}
  void start() override { io_.play(audio_, 1); }
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
  media::AudioPtr audio_;
  std::string outcome_;
};

}  // namespace

bool Call::can_refuse_audibly() const {
  return &a->agent == manager.context().lan && !a->answered && !ending_ && !machine_ && config->calls.tones &&
         manager.context().media;
}

bool Call::refuse_with_tone(int code, const char* phrase, media::Tone tone) {
  if (!can_refuse_audibly()) return false;
  const std::string& country = config->calls.tone_country.empty() ? config->routing.country : config->calls.tone_country;
  media::AudioPtr audio = media::supervisory_tone(tone, country, kToneSeconds);
  if (!audio) return false;
  B2BUA_LOG(info, "calls", "refused_with_tone", {{"call", id}, {"tone", media::tone_name(tone)}, {"status", code}});
  return refuse_with(std::move(audio), std::string("tone=") + media::tone_name(tone), "tone", code, phrase);
}

bool Call::refuse_with_announcement(int code, const char* phrase, const char* prompt, std::string note,
                                    const char* outcome) {
  if (!can_refuse_audibly() || !manager.prompts().usable()) return false;
  media::AudioPtr audio = manager.prompts().get(prompt);
  if (!audio) return false;
  B2BUA_LOG(info, "calls", "refused_with_announcement", {{"call", id}, {"announcement", prompt}, {"status", code}});
  return refuse_with(std::move(audio), std::move(note), outcome, code, phrase);
}

bool Call::refuse_with(media::AudioPtr audio, std::string note, const char* outcome, int code, const char* phrase) {
  AppMaker make = [audio, what = std::string(outcome)](voicemail::VoiceIo& io) {
    return std::make_unique<PlayThenRefuse>(io, audio, what);
  };
  if (!started_) {
    machine_at_start_ = MachineStart{std::move(make), std::move(note), code, phrase};
    return true;
  }
  return answer_by_machine(make, note, record.extension, code, phrase);
}

}  // namespace b2bua::calls
