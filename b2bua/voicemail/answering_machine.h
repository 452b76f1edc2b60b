// The answering machine of one call: it answers for a mailbox, plays the greeting and a beep,
// records until the caller hangs up, falls silent or reaches the maximum length, and stores
// the message (mailbox.h). "Announcement only" plays the greeting and hangs up. A mailbox
// with no room left (its limits full of new messages) says so and hangs up.
//
// A caller who hangs up during the greeting leaves no message, nor does one whose recording
// is shorter than kMinMessageMs (a hang-up at the beep). '#' during the greeting skips to the
// beep, as on most answering machines.
//
// Threads: SIP thread only. Owned by the call it answers; done() says when the call may end.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "b2bua/config/config.h"
#include "b2bua/voicemail/mailbox.h"
#include "b2bua/voicemail/voice_app.h"
#include "b2bua/voicemail/voice_io.h"
#include "media/media_plane.h"

namespace b2bua::voicemail {

class PromptBook;

// Shorter than this is a hang-up at the beep, not a message.
inline constexpr int kMinMessageMs = 1000;

class AnsweringMachine final : public VoiceApp {
 public:
  struct Caller {
    std::string number;  // "" when withheld
    std::string name;
  };
  // `greeting`: the mailbox's own (loaded by PromptBook), or null for the built-in one.
  // `stored` is told of each message stored (to mail it); may be empty.
  using Stored = std::function<void(const storage::VoiceMessageRow&)>;
  AnsweringMachine(VoiceIo& io, Mailboxes& boxes, const PromptBook& prompts, std::string mailbox,
                   const config::Voicemail& settings, Caller caller, uint64_t call_id, Stored stored = nullptr);

  // How long one more message of `mailbox` may be now, in ms: max_message, or less when the
  // flash has less room (Mailboxes::writable_bytes); nullopt when none fits (the mailbox's
  // limits, less than kMinMessageMs of flash, a folder that cannot be written to), logged as
  // event=voicemail_full. May prune heard messages (Mailboxes::make_room). start() asks;
  // callers that announce a full mailbox before answering ask first.
  static std::optional<int> recordable_ms(Mailboxes& boxes, const std::string& mailbox,
                                          const config::Voicemail& settings);

  void start() override;
  void on_played(uint32_t tag) override;
  void on_dtmf(char digit) override;
  void on_recorded(media::Recording recording) override;
  // The caller hung up (or the call ended otherwise).
  void on_caller_gone() override;

  // Nothing more will happen: no recording is owed, the message (if any) is stored.
  bool done() const override { return state_ == State::over; }
  // For the call record: "message", "no_message", "full", "announcement", "failed".
  const std::string& outcome() const override { return outcome_; }
  const std::string& mailbox() const { return mailbox_; }

 private:
  enum class State { greeting, skipping, recording, saving, closing, over };
  enum Tag : uint32_t { kGreeting = 1, kBeep = 2, kBeepAfterSkip = 3, kFull = 4, kAnnouncement = 5 };
  void save(media::Recording& recording);

  VoiceIo& io_;
  Mailboxes& boxes_;
  const PromptBook& prompts_;
  std::string mailbox_;
  config::Voicemail settings_;
  Caller caller_;
  uint64_t call_id_;
  Stored stored_;
  int record_ms_ = 0;  // recordable_ms() when answered
  State state_ = State::greeting;
  std::string outcome_ = "no_message";
  int64_t started_ms_ = 0;
};

}  // namespace b2bua::voicemail
