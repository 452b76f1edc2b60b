// The announcements voice applications play: the built-in prompts (media/prompts) and each
// mailbox's own greeting. Loaded on start and on every reload; a file that cannot be used
// (not a WAV, unreadable, empty) is logged with its path and the problem, and the built-in
// prompt plays in its place, so a bad greeting never costs a call.
//
// Threads: SIP thread only (loaded and read there).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "b2bua/config/config.h"
#include "media/media_plane.h"
#include "media/prompts.h"

namespace b2bua::voicemail {

class PromptBook {
 public:
  // Returns false when the built-in prompts themselves could not be loaded (logged); the
  // answering machines then stay off.
  bool load(const config::Config& c);
  bool usable() const { return usable_; }

  media::AudioPtr get(std::string_view name) const { return prompts_.get(name); }
  media::AudioPtr beep() const { return beep_; }
  // The mailbox's own greeting, else the built-in one (for announcement-only machines, one that
  // does not ask for a message).
  media::AudioPtr greeting(const std::string& mailbox, bool announce_only) const;
  // The prompts that say `n` (digit by digit).
  std::vector<media::AudioPtr> number(unsigned n) const { return prompts_.say_number(n); }
  // The named prompts, or none when one is missing (media::PromptSet::sentence).
  std::vector<media::AudioPtr> sentence(const std::vector<std::string>& names) const {
    return prompts_.sentence(names);
  }

 private:
  media::PromptSet prompts_;
  media::AudioPtr beep_;
  std::map<std::string, media::AudioPtr> greetings_;  // by mailbox
  std::map<std::string, std::string> loaded_from_;    // mailbox -> file, to reload only what changed
  bool usable_ = false;
};

}  // namespace b2bua::voicemail
