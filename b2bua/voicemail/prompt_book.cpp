#include "b2bua/voicemail/prompt_book.h"

#include <memory>
#include <set>
#include <utility>
#include <variant>

#include "b2bua/common/log.h"
#include "media/wav.h"

namespace b2bua::voicemail {

bool PromptBook::load(const config::Config& c) {
  const std::string dir = c.voicemail.prompts.empty() ? media::default_prompts_dir() : c.voicemail.prompts;
  media::PromptSet fresh;
  const std::vector<std::string> errors = fresh.load(dir);
  for (const auto& e : errors) B2BUA_LOG(error, "voicemail", "prompt_unusable", {{"folder", dir}, {"error", e}});
  // Missing built-in prompts would leave callers in silence: the machines stay off until a
  // reload finds them, rather than answering calls they cannot speak in.
  usable_ = errors.empty();
  if (usable_ || !prompts_.get("greeting")) prompts_ = std::move(fresh);
  // A folder made before the time words existed still works; it just says less.
  int lacking = 0;
  for (std::string_view name : media::kTimePrompts) lacking += prompts_.get(name) ? 0 : 1;
  if (lacking > 0) {
    B2BUA_LOG(warn, "voicemail", "prompts_incomplete",
              {{"folder", dir}, {"missing", lacking}, {"effect", "the menu does not say when a message was left"}});
  }
  beep_ = media::beep();

  std::set<std::string> wanted;
  for (const auto& ext : c.extensions) {
    if (!ext.voicemail.enabled || !ext.voicemail.greeting) continue;
    wanted.insert(ext.number);
    const std::string& file = *ext.voicemail.greeting;
    auto at = loaded_from_.find(ext.number);
    if (at != loaded_from_.end() && at->second == file && greetings_.count(ext.number)) continue;
    auto loaded = media::load_wav(file);
    if (auto* error = std::get_if<std::string>(&loaded)) {
      B2BUA_LOG(error, "voicemail", "greeting_unusable",
                {{"mailbox", ext.number}, {"file", file}, {"error", *error}, {"using", "built-in"}});
      greetings_.erase(ext.number);
      loaded_from_.erase(ext.number);
      continue;
    }
    greetings_[ext.number] = std::make_shared<const media::Audio>(std::get<media::Audio>(std::move(loaded)));
    loaded_from_[ext.number] = file;
    B2BUA_LOG(info, "voicemail", "greeting_loaded", {{"mailbox", ext.number}, {"file", file}});
  }
  std::erase_if(greetings_, [&](const auto& g) { return !wanted.count(g.first); });
  std::erase_if(loaded_from_, [&](const auto& g) { return !wanted.count(g.first); });
  return usable_;
}

media::AudioPtr PromptBook::greeting(const std::string& mailbox, bool announce_only) const {
  if (auto it = greetings_.find(mailbox); it != greetings_.end()) return it->second;
  return prompts_.get(announce_only ? "announcement" : "greeting");
}

}  // namespace b2bua::voicemail
