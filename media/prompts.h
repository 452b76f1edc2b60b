// The voice prompts the answering machine plays: the built-in English set (media/prompts/*.wav,
// installed to <datadir>/b2bua/prompts) and any folder of WAV files a user puts in its place.
//
// Rules:
// - A prompt's key is its file name without ".wav" ("greeting", "digit_3"; lower-case ".wav"
//   only). Any WAV that load_wav() reads will do; it is converted once, when loaded.
// - A PromptSet is filled on one thread, then only read: get() from any thread is safe once
//   loading is done. The AudioPtr it hands out stays valid after the set is gone or reloaded,
//   so a prompt being played is never pulled from under the media thread.
// - The beep is not a file: it is made in code, so a replaced prompt folder cannot lose it.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "media/audio.h"

namespace b2bua::media {

// Every prompt the daemon asks for; load() reports those the set lacks.
inline constexpr std::string_view kRequiredPrompts[] = {
    "greeting",     "mailbox_full",    "announcement", "blocked",   "no_route",   "you_have",
    "new_messages", "new_message",     "no_new_messages", "old_messages", "old_message", "and",
    "message",      "from",            "unknown_caller", "menu",     "message_menu", "deleted",
    "end_of_messages", "goodbye",      "enter_pin",    "wrong_pin", "digit_0",    "digit_1",
    "digit_2",      "digit_3",         "digit_4",      "digit_5",   "digit_6",    "digit_7",
    "digit_8",      "digit_9"};

// The words that say when a message was left ("received December sixth at two thirty p.m.").
// The built-in set has them all; they are not required, so a folder of prompts made before
// they existed still loads, and the menu then leaves the time out.
inline constexpr std::string_view kTimePrompts[] = {
    "received", "today", "yesterday", "at", "oh", "am", "pm",
    "month_1", "month_2", "month_3", "month_4", "month_5", "month_6",
    "month_7", "month_8", "month_9", "month_10", "month_11", "month_12",
    "number_10", "number_11", "number_12", "number_13", "number_14", "number_15", "number_16",
    "number_17", "number_18", "number_19", "number_20", "number_30", "number_40", "number_50",
    "day_1", "day_2", "day_3", "day_4", "day_5", "day_6", "day_7", "day_8", "day_9", "day_10",
    "day_11", "day_12", "day_13", "day_14", "day_15", "day_16", "day_17", "day_18", "day_19",
    "day_20", "day_30"};

// The prompt names that say `n` as words: 7 -> digit_7 ("seven"), 15 -> number_15, 40 ->
// number_40, 45 -> number_40, digit_5. From 60 on, digit by digit: the words stop at fifty-nine,
// which is all a clock needs.
std::vector<std::string> number_words(unsigned n);

class PromptSet {
 public:
  // Adds every *.wav in `dir` (replacing prompts of the same name), then checks that every
  // required prompt is there. Returns one error per problem: a file that does not load (its
  // text from load_wav), "<dir>: missing prompt: greeting", or a folder that cannot be read.
  // Files that load are kept even when others fail, so a built-in set loaded first and a
  // user's folder loaded over it leave every prompt playable.
  std::vector<std::string> load(const std::string& dir);

  // nullptr when there is no such prompt.
  AudioPtr get(std::string_view name) const;
  size_t size() const { return prompts_.size(); }

  // The digit prompts that say `n` digit by digit: 305 -> digit_3, digit_0, digit_5. A digit
  // prompt that is missing is left out.
  std::vector<AudioPtr> say_number(unsigned n) const;
  // The prompts that say `n` as words (number_words): 45 -> "forty" "five". A missing prompt is
  // left out.
  std::vector<AudioPtr> say_words(unsigned n) const;
  // The named prompts in order, or none at all when one is missing: a sentence with a word
  // left out says something else ("at two p.m." without "thirty").
  std::vector<AudioPtr> sentence(const std::vector<std::string>& names) const;

 private:
  // Those of `names` the set has, in order.
  std::vector<AudioPtr> found(const std::vector<std::string>& names) const;

  std::map<std::string, AudioPtr, std::less<>> prompts_;
};

// The parts one after the other, as one piece of audio (null parts are skipped).
AudioPtr concat(const std::vector<AudioPtr>& parts);

// The "leave your message after the tone" tone: 1000 Hz, 400 ms (3200 samples), about -10 dBm0,
// with 5 ms raised-cosine ramps so it starts and stops without a click.
AudioPtr beep();

// Where the built-in prompts are: next to the running binary (<prefix>/bin/../share/b2bua/prompts),
// else the folder the build was configured to install to, else the source checkout's
// media/prompts (the daemon run from a build folder). The last is returned even if missing, so
// the error names a real path.
std::string default_prompts_dir();

}  // namespace b2bua::media
