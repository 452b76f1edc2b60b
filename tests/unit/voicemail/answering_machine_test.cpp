// The answering machine and the voicemail menu as state machines: a scripted VoiceIo stands in
// for the call and its voice session, a memory store and a temporary folder for the mailbox,
// and the shipped prompts are the announcements.
#include "b2bua/voicemail/answering_machine.h"

#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "b2bua/voicemail/prompt_book.h"
#include "b2bua/voicemail/spoken_time.h"
#include "b2bua/voicemail/voicemail_menu.h"
#include "media/prompts.h"
#include "storage/store.h"
#include "voicemail_test_support.h"

namespace b2bua::voicemail {
namespace {

struct ScriptedIo : VoiceIo {
  struct Played {
    media::AudioPtr audio;
    uint32_t tag;
  };
  void play(media::AudioPtr audio, uint32_t tag) override { queue.push_back({std::move(audio), tag}); }
  void stop_playing() override {
    dropped.insert(dropped.end(), queue.begin(), queue.end());
    queue.clear();
    ++stops;
  }
  void record(const media::RecordSpec& s) override {
    recording = true;
    spec = s;
  }
  void stop_recording() override { stop_recording_asked = true; }
  void hang_up() override { hung_up = true; }

  // The media plane finishes the first queued prompt.
  template <class App>
  bool finish_one(App& app) {
    if (queue.empty()) return false;
    Played p = queue.front();
    queue.erase(queue.begin());
    app.on_played(p.tag);
    return true;
  }
  template <class App>
  void finish_all(App& app, int limit = 100) {
    while (limit-- > 0 && finish_one(app)) {
    }
  }
  template <class App>
  void report_dropped(App& app) {
    auto d = std::move(dropped);
    dropped.clear();
    for (auto& p : d) app.on_played(p.tag);
  }

  std::vector<Played> queue, dropped;
  int stops = 0;
  bool recording = false, stop_recording_asked = false, hung_up = false;
  media::RecordSpec spec;
};

media::Recording recording_of(double seconds, media::Recording::End end) {
  media::Recording r;
  r.end = end;
  r.samples = testing::audio(seconds);
  return r;
}

class VoiceAppTest : public ::testing::Test {
 protected:
  VoiceAppTest() : store_(storage::open_memory_store()), boxes_(store_->voice_messages(), dir_.file("voicemail")) {
    config::Config c;
    c.voicemail.prompts = media::default_prompts_dir();
    EXPECT_TRUE(prompts_.load(c));
    settings_.enabled = true;
  }

  std::unique_ptr<AnsweringMachine> machine() {
    return std::make_unique<AnsweringMachine>(io_, boxes_, prompts_, "10", settings_,
                                              AnsweringMachine::Caller{"0301234567", "Erika"}, 1);
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  Mailboxes boxes_;
  PromptBook prompts_;
  config::Voicemail settings_;
  ScriptedIo io_;
};

TEST_F(VoiceAppTest, MachineRecordsAfterGreetingAndBeepAndStoresTheMessage) {
  auto m = machine();
  m->start();
  ASSERT_EQ(io_.queue.size(), 2u);  // greeting, beep
  EXPECT_EQ(io_.queue[0].audio, prompts_.greeting("10", false));
  EXPECT_EQ(io_.queue[1].audio->samples.size(), 3200u);  // the beep
  io_.finish_all(*m);
  ASSERT_TRUE(io_.recording);
  EXPECT_EQ(io_.spec.max_ms, 120000);
  EXPECT_EQ(io_.spec.silence_ms, 5000);
  m->on_caller_gone();
  EXPECT_TRUE(io_.stop_recording_asked);
  EXPECT_FALSE(m->done());  // the recording is still owed
  m->on_recorded(recording_of(3, media::Recording::End::stopped));
  EXPECT_TRUE(m->done());
  EXPECT_EQ(m->outcome(), "message");
  auto rows = boxes_.list("10");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].caller_number, "0301234567");
  EXPECT_EQ(rows[0].duration_ms, 3000);
  EXPECT_FALSE(io_.hung_up);  // the caller hung up first
}

TEST_F(VoiceAppTest, MachineHangsUpWhenSilenceEndsTheMessage) {
  auto m = machine();
  m->start();
  io_.finish_all(*m);
  m->on_recorded(recording_of(2, media::Recording::End::silence));
  EXPECT_TRUE(io_.hung_up);
  EXPECT_TRUE(m->done());
  EXPECT_EQ(boxes_.counts("10").new_messages, 1);
}

TEST_F(VoiceAppTest, MachineLeavesNoMessageWhenTheCallerHangsUpInTheGreeting) {
  auto m = machine();
  m->start();
  m->on_caller_gone();
  EXPECT_TRUE(m->done());
  EXPECT_FALSE(io_.recording);
  EXPECT_EQ(m->outcome(), "no_message");
  EXPECT_TRUE(boxes_.list("10").empty());
}

TEST_F(VoiceAppTest, MachineDropsARecordingShorterThanASecond) {
  auto m = machine();
  m->start();
  io_.finish_all(*m);
  m->on_caller_gone();
  m->on_recorded(recording_of(0.4, media::Recording::End::stopped));
  EXPECT_EQ(m->outcome(), "no_message");
  EXPECT_TRUE(boxes_.list("10").empty());
}

TEST_F(VoiceAppTest, MachineSkipsTheGreetingOnHashAndStillBeeps) {
  auto m = machine();
  m->start();
  m->on_dtmf('#');
  EXPECT_EQ(io_.stops, 1);
  io_.report_dropped(*m);  // greeting and beep dropped: the beep plays again
  ASSERT_EQ(io_.queue.size(), 1u);
  EXPECT_EQ(io_.queue[0].audio->samples.size(), 3200u);
  EXPECT_FALSE(io_.recording);
  io_.finish_all(*m);
  EXPECT_TRUE(io_.recording);
}

TEST_F(VoiceAppTest, MachineAnnouncesAFullMailboxAndHangsUp) {
  settings_.max_messages = 1;
  ASSERT_TRUE(std::holds_alternative<storage::VoiceMessageRow>(boxes_.store("10", "1", "", 1, testing::audio(1))));
  auto m = machine();
  m->start();
  ASSERT_EQ(io_.queue.size(), 1u);
  EXPECT_EQ(io_.queue[0].audio, prompts_.get("mailbox_full"));
  io_.finish_all(*m);
  EXPECT_TRUE(io_.hung_up);
  EXPECT_FALSE(io_.recording);
  EXPECT_EQ(m->outcome(), "full");
  EXPECT_EQ(boxes_.list("10").size(), 1u);
}

TEST_F(VoiceAppTest, MachineInAnnouncementModePlaysAndHangsUp) {
  settings_.announce_only = true;
  auto m = machine();
  m->start();
  ASSERT_EQ(io_.queue.size(), 1u);
  EXPECT_EQ(io_.queue[0].audio, prompts_.get("announcement"));
  io_.finish_all(*m);
  EXPECT_TRUE(io_.hung_up);
  EXPECT_TRUE(m->done());
  EXPECT_FALSE(io_.recording);
}

TEST_F(VoiceAppTest, MenuPlaysNewMessagesMarksThemHeardAndDeletes) {
  ASSERT_TRUE(std::holds_alternative<storage::VoiceMessageRow>(boxes_.store("10", "11", "", 1000, testing::audio(1))));
  ASSERT_TRUE(std::holds_alternative<storage::VoiceMessageRow>(boxes_.store("10", "12", "", 2000, testing::audio(1))));
  VoicemailMenu menu(io_, boxes_, prompts_, "10", "", 1);
  menu.start();
  // "you have" "two" "new messages", then message one
  ASSERT_GE(io_.queue.size(), 3u);
  EXPECT_EQ(io_.queue[0].audio, prompts_.get("you_have"));
  io_.finish_all(menu, 3);
  // "message" "one", when it was left, "from" "one" "one", then the message itself.
  const std::vector<media::AudioPtr> when = prompts_.sentence(spoken_time(1000, std::time(nullptr)));
  ASSERT_FALSE(when.empty()) << "the shipped prompts say every time";
  std::vector<media::AudioPtr> intro{prompts_.get("message"), prompts_.get("digit_1")};
  intro.insert(intro.end(), when.begin(), when.end());
  for (const char* name : {"from", "digit_1", "digit_1"}) intro.push_back(prompts_.get(name));
  ASSERT_EQ(io_.queue.size(), intro.size() + 1);
  for (size_t i = 0; i < intro.size(); ++i) EXPECT_EQ(io_.queue[i].audio, intro[i]) << i;
  io_.finish_all(menu, static_cast<int>(io_.queue.size()));
  EXPECT_EQ(boxes_.counts("10").new_messages, 1);  // the first was played to its end
  menu.on_dtmf('7');                                 // delete it
  io_.report_dropped(menu);
  EXPECT_EQ(boxes_.list("10").size(), 1u);
  io_.finish_all(menu, 1);  // "deleted", then the other message, its intro and audio at once
  io_.finish_all(menu, static_cast<int>(io_.queue.size()));
  EXPECT_EQ(boxes_.counts("10").new_messages, 0);
  menu.on_dtmf('#');
  io_.report_dropped(menu);
  io_.finish_all(menu);
  EXPECT_TRUE(io_.hung_up);
}

// A prompt folder made before the time words existed still loads; the menu leaves the time out.
TEST_F(VoiceAppTest, MenuWithoutTimePromptsIntroducesByNumberAndCaller) {
  const std::string older = dir_.file("older-prompts");
  std::filesystem::create_directory(older);
  for (std::string_view name : media::kRequiredPrompts) {
    const std::string file = std::string(name) + ".wav";
    std::filesystem::copy_file(std::filesystem::path(media::default_prompts_dir()) / file,
                               std::filesystem::path(older) / file);
  }
  config::Config c;
  c.voicemail.prompts = older;
  PromptBook book;
  ASSERT_TRUE(book.load(c));
  ASSERT_TRUE(std::holds_alternative<storage::VoiceMessageRow>(boxes_.store("10", "7", "", 1000, testing::audio(1))));
  VoicemailMenu menu(io_, boxes_, book, "10", "", 1);
  menu.start();
  io_.finish_all(menu, 3);
  ASSERT_EQ(io_.queue.size(), 5u) << "message, one, from, seven, the message";
  EXPECT_EQ(io_.queue[1].audio, book.get("digit_1"));
  EXPECT_EQ(io_.queue[2].audio, book.get("from"));
  EXPECT_EQ(io_.queue[3].audio, book.get("digit_7"));
}

TEST_F(VoiceAppTest, MenuAsksForThePinAndGivesUpAfterThreeWrongOnes) {
  VoicemailMenu menu(io_, boxes_, prompts_, "10", "4711", 1);
  menu.start();
  EXPECT_EQ(io_.queue.at(0).audio, prompts_.get("enter_pin"));
  for (int i = 0; i < 3; ++i) {
    for (char d : std::string("1234#")) menu.on_dtmf(d);
    io_.report_dropped(menu);
  }
  io_.finish_all(menu);
  EXPECT_TRUE(io_.hung_up);
  EXPECT_EQ(menu.outcome(), "wrong_pin");
}

TEST_F(VoiceAppTest, MenuOpensWithTheRightPin) {
  VoicemailMenu menu(io_, boxes_, prompts_, "10", "4711", 1);
  menu.start();
  for (char d : std::string("4711#")) menu.on_dtmf(d);
  io_.report_dropped(menu);
  ASSERT_FALSE(io_.queue.empty());
  EXPECT_EQ(io_.queue[0].audio, prompts_.get("no_new_messages"));
  io_.finish_all(menu);
  EXPECT_TRUE(io_.hung_up);  // nothing to hear: goodbye
}

}  // namespace
}  // namespace b2bua::voicemail
