#include "b2bua/voicemail/voicemail_menu.h"

#include <algorithm>
#include <ctime>
#include <utility>
#include <variant>

#include "b2bua/common/log.h"
#include "b2bua/voicemail/prompt_book.h"
#include "b2bua/voicemail/spoken_time.h"
#include "media/wav.h"

namespace b2bua::voicemail {
namespace {
constexpr int kPinTries = 3;
constexpr int kMenuRepeats = 3;  // the menu is said this often without a key, then goodbye
}  // namespace

VoicemailMenu::VoicemailMenu(VoiceIo& io, Mailboxes& boxes, const PromptBook& prompts, std::string mailbox,
                             std::string pin, uint64_t call_id)
    : io_(io), boxes_(boxes), prompts_(prompts), mailbox_(std::move(mailbox)), pin_(std::move(pin)), call_id_(call_id) {}

void VoicemailMenu::say(std::vector<media::AudioPtr> parts, Next next) {
  parts.erase(std::remove(parts.begin(), parts.end(), nullptr), parts.end());
  next_ = std::move(next);
  const uint32_t tag = ++seq_;
  if (parts.empty()) {
    on_played(tag);
    return;
  }
  for (size_t i = 0; i < parts.size(); ++i) io_.play(parts[i], i + 1 == parts.size() ? tag : 0);
}

void VoicemailMenu::say(std::initializer_list<const char*> names, Next next) {
  std::vector<media::AudioPtr> parts;
  for (const char* n : names) parts.push_back(prompts_.get(n));
  say(std::move(parts), std::move(next));
}

void VoicemailMenu::start() {
  B2BUA_LOG(info, "voicemail", "menu", {{"call", call_id_}, {"mailbox", mailbox_}, {"pin", pin_.empty() ? "no" : "asked"}});
  if (!pin_.empty()) return say({"enter_pin"}, nullptr);
  pin_ok_ = true;
  summary();
}

void VoicemailMenu::on_played(uint32_t tag) {
  if (over_ || tag == 0 || tag != seq_ || !next_) return;
  Next next = std::move(next_);
  next_ = nullptr;
  next();
}

void VoicemailMenu::on_dtmf(char digit) {
  if (over_) return;
  if (!pin_ok_) {
    ++seq_;  // a key cuts the prompt; what it would have led to is dropped
    next_ = nullptr;
    io_.stop_playing();
    if (digit == '#') return check_pin();
    if (entered_.size() < 16) entered_ += digit;
    return;
  }
  ++seq_;
  next_ = nullptr;
  io_.stop_playing();
  menu_repeats_ = 0;
  switch (digit) {
    case '1': current_ = 0; return play_current();
    case '4': if (current_ > 0) --current_; return play_current();
    case '5': return play_current();
    case '6': ++current_; return play_current();
    case '7':
      if (current_ < messages_.size()) {
        boxes_.remove(messages_[current_].id);
        B2BUA_LOG(info, "voicemail", "message_deleted", {{"call", call_id_}, {"mailbox", mailbox_}, {"message", messages_[current_].id}});
        messages_.erase(messages_.begin() + static_cast<long>(current_));
        return say({"deleted"}, [this] { play_current(); });
      }
      return play_current();
    case '#': return goodbye();
    default: return message_menu();
  }
}

void VoicemailMenu::check_pin() {
  std::string entered = std::move(entered_);
  entered_.clear();
  if (entered == pin_) {
    pin_ok_ = true;
    return summary();
  }
  ++pin_tries_;
  // Never the digits: a log line must not help whoever is guessing.
  B2BUA_LOG(warn, "voicemail", "wrong_pin", {{"call", call_id_}, {"mailbox", mailbox_}, {"try", pin_tries_}});
  if (pin_tries_ >= kPinTries) {
    outcome_ = "wrong_pin";
    return say({"wrong_pin", "goodbye"}, [this] { io_.hang_up(); over_ = true; });
  }
  say({"wrong_pin", "enter_pin"}, nullptr);
}

void VoicemailMenu::summary() {
  // New messages first, oldest first; then the ones already heard.
  auto all = boxes_.list(mailbox_);
  std::stable_partition(all.begin(), all.end(), [](const storage::VoiceMessageRow& m) { return !m.heard; });
  messages_ = std::move(all);
  current_ = 0;
  const auto fresh = static_cast<unsigned>(std::count_if(messages_.begin(), messages_.end(), [](const auto& m) { return !m.heard; }));
  std::vector<media::AudioPtr> parts;
  if (fresh == 0) {
    parts.push_back(prompts_.get("no_new_messages"));
  } else {
    parts.push_back(prompts_.get("you_have"));
    for (auto& p : prompts_.number(fresh)) parts.push_back(p);
    parts.push_back(prompts_.get(fresh == 1 ? "new_message" : "new_messages"));
  }
  say(std::move(parts), [this] {
    if (messages_.empty()) return goodbye();
    play_current();
  });
}

void VoicemailMenu::play_current() {
  if (current_ >= messages_.size()) {
    current_ = messages_.size();
    return say({"end_of_messages"}, [this] { message_menu(); });
  }
  const storage::VoiceMessageRow& m = messages_[current_];
  auto loaded = media::load_wav(boxes_.path_of(m));
  if (auto* error = std::get_if<std::string>(&loaded)) {
    B2BUA_LOG(error, "voicemail", "message_unreadable", {{"call", call_id_}, {"message", m.id}, {"error", *error}});
    ++current_;
    return play_current();
  }
  std::vector<media::AudioPtr> parts{prompts_.get("message")};
  for (auto& p : prompts_.number(static_cast<unsigned>(current_ + 1))) parts.push_back(p);
  // When, then who: the order answering machines use, and the caller's digits end the intro
  // right before the message, where a listener writing the number down wants them.
  for (auto& p : prompts_.sentence(spoken_time(m.received_ms, std::time(nullptr)))) parts.push_back(p);
  parts.push_back(prompts_.get("from"));
  if (m.caller_number.empty()) {
    parts.push_back(prompts_.get("unknown_caller"));
  } else {
    for (char ch : m.caller_number) {
      if (ch >= '0' && ch <= '9') {
        for (auto& p : prompts_.number(static_cast<unsigned>(ch - '0'))) parts.push_back(p);
      }
    }
  }
  parts.push_back(std::make_shared<const media::Audio>(std::get<media::Audio>(std::move(loaded))));
  const int64_t id = m.id;
  say(std::move(parts), [this, id] {
    if (current_ < messages_.size() && messages_[current_].id == id && !messages_[current_].heard) {
      boxes_.mark_heard(id);
      messages_[current_].heard = true;
    }
    message_menu();
  });
}

void VoicemailMenu::message_menu() {
  if (++menu_repeats_ > kMenuRepeats) return goodbye();
  say({"message_menu"}, [this] { message_menu(); });
}

void VoicemailMenu::goodbye() {
  say({"goodbye"}, [this] {
    over_ = true;
    io_.hang_up();
  });
}

}  // namespace b2bua::voicemail
