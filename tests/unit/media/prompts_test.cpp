#include "media/prompts.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "media/wav.h"

namespace b2bua::media {
namespace {

namespace fs = std::filesystem;

bool has(const std::vector<std::string>& errors, const std::string& text) {
  return std::any_of(errors.begin(), errors.end(),
                     [&](const std::string& e) { return e.find(text) != std::string::npos; });
}

TEST(Prompts, ShippedPromptsAllLoadAndAreShortEnough) {
  PromptSet set;
  const std::vector<std::string> errors = set.load(B2BUA_SOURCE_PROMPTS_DIR);
  EXPECT_TRUE(errors.empty()) << errors.front();
  std::vector<std::string_view> names(std::begin(kRequiredPrompts), std::end(kRequiredPrompts));
  names.insert(names.end(), std::begin(kTimePrompts), std::end(kTimePrompts));
  for (std::string_view name : names) {
    AudioPtr p = set.get(name);
    ASSERT_TRUE(p) << name;
    EXPECT_FALSE(p->samples.empty()) << name;
    EXPECT_LT(p->samples.size(), 8u * kAudioRate) << name << " is 8 s or longer";
  }
  EXPECT_EQ(set.size(), names.size()) << "a shipped prompt nobody asks for";
}

// On flash they are 8 kHz mu-law (format 7): half the size of 16-bit PCM.
TEST(Prompts, ShippedFilesAreEightKilohertzMuLaw) {
  for (const fs::directory_entry& entry : fs::directory_iterator(B2BUA_SOURCE_PROMPTS_DIR)) {
    if (entry.path().extension() != ".wav") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::vector<char> head(36);
    in.read(head.data(), 36);
    ASSERT_EQ(in.gcount(), 36) << entry.path();
    const auto u8 = [&](size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(head[i])); };
    EXPECT_EQ(u8(20) | u8(21) << 8, 7u) << entry.path() << ": format code";
    EXPECT_EQ(u8(22), 1u) << entry.path() << ": channels";
    EXPECT_EQ(u8(24) | u8(25) << 8, 8000u) << entry.path() << ": rate";
  }
}

TEST(Prompts, SayNumberGivesTheDigitPrompts) {
  PromptSet set;
  ASSERT_TRUE(set.load(B2BUA_SOURCE_PROMPTS_DIR).empty());
  const std::vector<AudioPtr> parts = set.say_number(305);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], set.get("digit_3"));
  EXPECT_EQ(parts[1], set.get("digit_0"));
  EXPECT_EQ(parts[2], set.get("digit_5"));
  ASSERT_EQ(set.say_number(0).size(), 1u);
  EXPECT_EQ(set.say_number(0)[0], set.get("digit_0"));
  EXPECT_EQ(concat(parts)->samples.size(),
            parts[0]->samples.size() + parts[1]->samples.size() + parts[2]->samples.size());
}

TEST(Prompts, NumberWordsUpToFiftyNine) {
  using Names = std::vector<std::string>;
  EXPECT_EQ(number_words(0), (Names{"digit_0"}));
  EXPECT_EQ(number_words(7), (Names{"digit_7"}));
  EXPECT_EQ(number_words(10), (Names{"number_10"}));
  EXPECT_EQ(number_words(15), (Names{"number_15"}));
  EXPECT_EQ(number_words(19), (Names{"number_19"}));
  EXPECT_EQ(number_words(20), (Names{"number_20"}));
  EXPECT_EQ(number_words(40), (Names{"number_40"}));
  EXPECT_EQ(number_words(45), (Names{"number_40", "digit_5"})) << "forty five";
  EXPECT_EQ(number_words(59), (Names{"number_50", "digit_9"}));
  EXPECT_EQ(number_words(60), (Names{"digit_6", "digit_0"})) << "past the words: digit by digit";

  PromptSet set;
  ASSERT_TRUE(set.load(B2BUA_SOURCE_PROMPTS_DIR).empty());
  for (unsigned n = 0; n < 60; ++n) EXPECT_EQ(set.say_words(n).size(), number_words(n).size()) << n;
  EXPECT_EQ(set.say_words(45), (std::vector<AudioPtr>{set.get("number_40"), set.get("digit_5")}));
}

TEST(Prompts, SentenceIsAllOrNothing) {
  PromptSet set;
  ASSERT_TRUE(set.load(B2BUA_SOURCE_PROMPTS_DIR).empty());
  EXPECT_EQ(set.sentence({"at", "digit_2", "pm"}),
            (std::vector<AudioPtr>{set.get("at"), set.get("digit_2"), set.get("pm")}));
  EXPECT_TRUE(set.sentence({"at", "nothing", "pm"}).empty());
  EXPECT_TRUE(set.sentence({}).empty());
}

TEST(Prompts, BeepIsFourHundredMillisecondsWithoutClicks) {
  AudioPtr b = beep();
  ASSERT_TRUE(b);
  ASSERT_EQ(b->samples.size(), 3200u);
  EXPECT_EQ(b, beep()) << "made once";
  int peak = 0;
  for (int16_t s : b->samples) peak = std::max(peak, std::abs(static_cast<int>(s)));
  EXPECT_NEAR(peak, 7193, 20) << "-10 dBm0";
  EXPECT_LT(std::abs(b->samples.front()), 50);
  EXPECT_LT(std::abs(b->samples.back()), 50);
  EXPECT_LT(std::abs(b->samples[10]), 7193 / 4) << "ramps in over 5 ms";
}

TEST(Prompts, MissingPromptsAndBadFilesAreNamed) {
  std::string tmpl = (fs::temp_directory_path() / "b2bua-prompts-XXXXXX").string();
  ASSERT_TRUE(::mkdtemp(tmpl.data()));
  const std::string dir = tmpl;
  ASSERT_EQ(write_wav(dir + "/greeting.wav", {1, 2, 3}), "");
  { std::ofstream(dir + "/goodbye.wav") << "not audio"; }

  PromptSet set;
  std::vector<std::string> errors = set.load(dir);
  EXPECT_TRUE(has(errors, dir + "/goodbye.wav: not a WAV file")) << errors.front();
  EXPECT_TRUE(has(errors, dir + ": missing prompt: goodbye"));
  EXPECT_TRUE(has(errors, dir + ": missing prompt: digit_9"));
  EXPECT_FALSE(has(errors, "missing prompt: greeting"));
  EXPECT_FALSE(has(errors, "missing prompt: received")) << "the time words are not required";
  EXPECT_EQ(set.get("greeting")->samples, (std::vector<int16_t>{1, 2, 3}));
  EXPECT_EQ(set.get("nothing"), nullptr);

  // The built-in set first, the user's folder over it: the user's greeting wins, nothing lacks.
  PromptSet layered;
  ASSERT_TRUE(layered.load(B2BUA_SOURCE_PROMPTS_DIR).empty());
  errors = layered.load(dir);
  EXPECT_EQ(errors.size(), 1u) << "only the broken goodbye.wav";
  EXPECT_EQ(layered.get("greeting")->samples.size(), 3u);
  EXPECT_TRUE(layered.get("goodbye"));

  EXPECT_TRUE(has(PromptSet().load(dir + "/nope"), dir + "/nope: cannot read the prompt folder"));
  fs::remove_all(dir);
}

TEST(Prompts, DefaultFolderExists) {
  EXPECT_TRUE(fs::is_directory(default_prompts_dir())) << default_prompts_dir();
}

}  // namespace
}  // namespace b2bua::media
