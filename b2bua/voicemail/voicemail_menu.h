// The voicemail menu: what a phone hears after dialling the voicemail code (calls/feature_codes.h).
// From another extension's phone it asks for the mailbox's PIN first (digits, then '#'; three
// tries). Then it says how many new messages there are and plays them, new ones first (oldest
// first), then the heard ones. Each message is introduced by its number, when it was left
// (spoken_time.h) and the caller's number, digit by digit. Keys, at any time (a key cuts the
// prompt short):
//   4 previous   5 repeat   6 next   7 delete   1 from the first   # goodbye
// A message played to its end counts as heard, which puts out the message lamp once no new
// one is left (message_waiting.h).
//
// Threads: SIP thread only. Owned by the call that answered.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "b2bua/voicemail/mailbox.h"
#include "b2bua/voicemail/voice_app.h"
#include "b2bua/voicemail/voice_io.h"

namespace b2bua::voicemail {

class PromptBook;

class VoicemailMenu final : public VoiceApp {
 public:
  // `pin`: asked first when not empty.
  VoicemailMenu(VoiceIo& io, Mailboxes& boxes, const PromptBook& prompts, std::string mailbox, std::string pin,
                uint64_t call_id);

  void start() override;
  void on_played(uint32_t tag) override;
  void on_dtmf(char digit) override;
  void on_recorded(media::Recording) override {}
  void on_caller_gone() override { over_ = true; }
  bool done() const override { return true; }  // nothing is owed: it records nothing
  const std::string& outcome() const override { return outcome_; }

 private:
  using Next = std::function<void()>;
  // Plays `parts` in order, then `next` (unless a key came first).
  void say(std::vector<media::AudioPtr> parts, Next next);
  void say(std::initializer_list<const char*> prompts, Next next);
  void summary();
  void play_current();
  void message_menu();
  void goodbye();
  void check_pin();

  VoiceIo& io_;
  Mailboxes& boxes_;
  const PromptBook& prompts_;
  std::string mailbox_;
  std::string pin_;
  uint64_t call_id_;
  std::string outcome_ = "listened";
  bool pin_ok_ = false;
  int pin_tries_ = 0;
  std::string entered_;
  std::vector<storage::VoiceMessageRow> messages_;
  size_t current_ = 0;
  int menu_repeats_ = 0;
  uint32_t seq_ = 0;  // the tag of the last part of the latest say(); older tags are stale
  Next next_;
  bool over_ = false;
};

}  // namespace b2bua::voicemail
