#include "b2bua/voicemail/answering_machine.h"

#include <algorithm>
#include <utility>

#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"
#include "b2bua/voicemail/prompt_book.h"

namespace b2bua::voicemail {

AnsweringMachine::AnsweringMachine(VoiceIo& io, Mailboxes& boxes, const PromptBook& prompts, std::string mailbox,
                                   const config::Voicemail& settings, Caller caller, uint64_t call_id, Stored stored)
    : io_(io),
      boxes_(boxes),
      prompts_(prompts),
      mailbox_(std::move(mailbox)),
      settings_(settings),
      caller_(std::move(caller)),
      call_id_(call_id),
      stored_(std::move(stored)) {}

std::optional<int> AnsweringMachine::recordable_ms(Mailboxes& boxes, const std::string& mailbox,
                                                   const config::Voicemail& settings) {
  // A message of 16-bit 8 kHz PCM takes 16000 bytes a second, plus the WAV header.
  constexpr int64_t kBytesPerSecond = 16000, kHeader = 44;
  const int64_t max_bytes = kBytesPerSecond * settings.max_message + kHeader;
  MailboxLimits limits{settings.max_messages, int64_t{settings.max_total_mb} * 1024 * 1024};
  if (!boxes.make_room(mailbox, max_bytes, limits)) return std::nullopt;
  auto space = boxes.writable_bytes(mailbox);
  if (auto* failure = std::get_if<std::string>(&space)) {
    B2BUA_LOG(error, "voicemail", "voicemail_full", {{"mailbox", mailbox}, {"reason", *failure}});
    return std::nullopt;
  }
  const int64_t fits_ms = (std::get<int64_t>(space) - kHeader) * 1000 / kBytesPerSecond;
  if (fits_ms < kMinMessageMs) {
    B2BUA_LOG(warn, "voicemail", "voicemail_full",
              {{"mailbox", mailbox}, {"reason", "no space left on the flash"}, {"free_bytes", std::get<int64_t>(space)}});
    return std::nullopt;
  }
  return static_cast<int>(std::min<int64_t>(fits_ms, int64_t{settings.max_message} * 1000));
}

void AnsweringMachine::start() {
  started_ms_ = clock::unix_ms();
  if (settings_.announce_only) {
    B2BUA_LOG(info, "voicemail", "announcement", {{"call", call_id_}, {"mailbox", mailbox_}});
    state_ = State::closing;
    outcome_ = "announcement";
    io_.play(prompts_.greeting(mailbox_, true), kAnnouncement);
    return;
  }
  // Room is made before the caller speaks: a full mailbox is told now, not after the message.
  const std::optional<int> recordable = recordable_ms(boxes_, mailbox_, settings_);
  if (!recordable) {
    state_ = State::closing;
    outcome_ = "full";
    io_.play(prompts_.get("mailbox_full"), kFull);
    return;
  }
  record_ms_ = *recordable;
  B2BUA_LOG(info, "voicemail", "answered", {{"call", call_id_}, {"mailbox", mailbox_}, {"max_ms", record_ms_}});
  state_ = State::greeting;
  io_.play(prompts_.greeting(mailbox_, false), kGreeting);
  io_.play(prompts_.beep(), kBeep);
}

void AnsweringMachine::on_played(uint32_t tag) {
  switch (state_) {
    case State::greeting:
      if (tag != kBeep) return;
      state_ = State::recording;
      io_.record(media::RecordSpec{.max_ms = record_ms_,
                                   .silence_ms = settings_.silence * 1000,
                                   .initial_silence_ms = settings_.silence > 0 ? settings_.silence * 2000 : 0});
      return;
    case State::skipping:
      // The greeting and its beep were dropped; the beep is the caller's cue, so it plays again.
      if (tag == kBeep) io_.play(prompts_.beep(), kBeepAfterSkip);
      if (tag == kBeepAfterSkip) {
        state_ = State::greeting;
        on_played(kBeep);
      }
      return;
    case State::closing:
      if (tag == kFull || tag == kAnnouncement) {
        io_.hang_up();
        state_ = State::over;
      }
      return;
    default:
      return;
  }
}

void AnsweringMachine::on_dtmf(char digit) {
  if (state_ == State::greeting && digit == '#') {
    state_ = State::skipping;
    io_.stop_playing();
  }
}

void AnsweringMachine::on_caller_gone() {
  switch (state_) {
    case State::recording:
      state_ = State::saving;  // the recording comes back with what was said
      io_.stop_recording();
      return;
    case State::saving:
      return;
    case State::greeting:
    case State::skipping:
      B2BUA_LOG(info, "voicemail", "no_message", {{"call", call_id_}, {"mailbox", mailbox_}, {"reason", "hung_up_in_greeting"}});
      [[fallthrough]];
    default:
      state_ = State::over;
      return;
  }
}

void AnsweringMachine::on_recorded(media::Recording recording) {
  if (state_ != State::recording && state_ != State::saving) return;
  const bool caller_there = state_ == State::recording;
  save(recording);
  state_ = State::over;
  // Silence or the maximum length ended it while the caller is still on the line.
  if (caller_there) io_.hang_up();
}

void AnsweringMachine::save(media::Recording& recording) {
  const auto ms = static_cast<int64_t>(recording.samples.size()) * 1000 / media::kAudioRate;
  if (ms < kMinMessageMs) {
    B2BUA_LOG(info, "voicemail", "no_message", {{"call", call_id_}, {"mailbox", mailbox_}, {"reason", "too_short"}, {"ms", ms}});
    outcome_ = "no_message";
    return;
  }
  auto stored = boxes_.store(mailbox_, caller_.number, caller_.name, started_ms_, recording.samples);
  if (auto* error = std::get_if<std::string>(&stored)) {
    B2BUA_LOG(error, "voicemail", "store_failed", {{"call", call_id_}, {"mailbox", mailbox_}, {"error", *error}});
    outcome_ = "failed";
    return;
  }
  outcome_ = "message";
  if (stored_) stored_(std::get<storage::VoiceMessageRow>(stored));
}

}  // namespace b2bua::voicemail
