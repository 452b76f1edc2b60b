#include "b2bua/voicemail/mailbox.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <filesystem>
#include <memory>
#include <string>

#include "storage/store.h"
#include "voicemail_test_support.h"

namespace b2bua::voicemail {
namespace {

namespace fs = std::filesystem;
using storage::VoiceMessageRow;

// A 1-second message as stored: 44 header bytes and 16000 bytes of audio.
constexpr int64_t kOneSecondBytes = 44 + 16000;

class MailboxTest : public ::testing::Test {
 protected:
  MailboxTest() : store_(storage::open_memory_store()), mailboxes_(store_->voice_messages(), folder()) {}

  std::string folder() const { return dir_.file("voicemail"); }

  VoiceMessageRow store_message(const std::string& mailbox, int64_t received_ms, double seconds = 1) {
    auto result = mailboxes_.store(mailbox, "+4930123456", "Erika", received_ms, testing::audio(seconds));
    if (auto* error = std::get_if<std::string>(&result)) ADD_FAILURE() << *error;
    return std::get<VoiceMessageRow>(result);
  }

  std::vector<int64_t> ids(const std::string& mailbox) {
    std::vector<int64_t> result;
    for (const auto& row : mailboxes_.list(mailbox)) result.push_back(row.id);
    return result;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  Mailboxes mailboxes_;
};

TEST_F(MailboxTest, StoreWritesTheFileThenTheRow) {
  const auto samples = testing::audio(1.5);
  auto result = mailboxes_.store("10", "+4930123456", "Erika Mustermann", 1733512345123, samples);
  ASSERT_TRUE(std::holds_alternative<VoiceMessageRow>(result)) << std::get<std::string>(result);
  const auto& row = std::get<VoiceMessageRow>(result);
  EXPECT_GT(row.id, 0);
  EXPECT_EQ(row.mailbox, "10");
  EXPECT_EQ(row.caller_number, "+4930123456");
  EXPECT_EQ(row.caller_name, "Erika Mustermann");
  EXPECT_EQ(row.received_ms, 1733512345123);
  EXPECT_EQ(row.duration_ms, 1500);
  EXPECT_EQ(row.size_bytes, 44 + 2 * 12000);
  EXPECT_FALSE(row.heard);
  EXPECT_EQ(row.file.rfind("10/1733512345123-", 0), 0u) << row.file;
  EXPECT_EQ(row.file.substr(row.file.size() - 4), ".wav");

  const std::string path = mailboxes_.path_of(row);
  EXPECT_TRUE(fs::path(path).is_absolute()) << path;
  EXPECT_EQ(path, (fs::path(folder()) / row.file).string());
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(path)), row.size_bytes);
  EXPECT_EQ(testing::read_bytes(path).substr(0, 4), "RIFF");

  const auto listed = mailboxes_.list("10");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, row.id);
  EXPECT_EQ(listed[0].file, row.file);
  EXPECT_EQ(testing::files_under(folder()), std::vector<std::string>{row.file});
}

TEST_F(MailboxTest, WithheldCallerIsStored) {
  auto result = mailboxes_.store("10", "", "", 1000, testing::audio(0.1));
  ASSERT_TRUE(std::holds_alternative<VoiceMessageRow>(result));
  EXPECT_EQ(mailboxes_.list("10")[0].caller_number, "");
}

TEST_F(MailboxTest, TwoMessagesOfTheSameMillisecondGetTwoFiles) {
  const auto a = store_message("10", 1000);
  const auto b = store_message("10", 1000);
  EXPECT_NE(a.file, b.file);
  EXPECT_EQ(testing::files_under(folder()).size(), 2u);
}

TEST_F(MailboxTest, ListIsOneMailboxOldestFirstAndCountsSplitNewFromOld) {
  const auto later = store_message("10", 3000);
  const auto earlier = store_message("10", 1000);
  store_message("11", 2000);
  EXPECT_EQ(ids("10"), (std::vector<int64_t>{earlier.id, later.id}));
  const auto counts = mailboxes_.counts("10");
  EXPECT_EQ(counts.new_messages, 2);
  EXPECT_EQ(counts.old_messages, 0);
  EXPECT_EQ(mailboxes_.counts("11").new_messages, 1);
  EXPECT_EQ(mailboxes_.counts("12").new_messages, 0);
}

TEST_F(MailboxTest, MarkHeardMovesAMessageFromNewToOld) {
  const auto a = store_message("10", 1000);
  store_message("10", 2000);
  EXPECT_TRUE(mailboxes_.mark_heard(a.id));
  auto counts = mailboxes_.counts("10");
  EXPECT_EQ(counts.new_messages, 1);
  EXPECT_EQ(counts.old_messages, 1);
  EXPECT_TRUE(mailboxes_.mark_heard(a.id)) << "hearing it twice changes nothing";
  counts = mailboxes_.counts("10");
  EXPECT_EQ(counts.old_messages, 1);
  EXPECT_FALSE(mailboxes_.mark_heard(a.id + 100));
}

TEST_F(MailboxTest, RemoveDeletesTheRowAndTheFile) {
  const auto a = store_message("10", 1000);
  const auto b = store_message("10", 2000);
  EXPECT_TRUE(mailboxes_.remove(a.id));
  EXPECT_FALSE(fs::exists(mailboxes_.path_of(a)));
  EXPECT_TRUE(fs::exists(mailboxes_.path_of(b)));
  EXPECT_EQ(ids("10"), std::vector<int64_t>{b.id});
  EXPECT_FALSE(mailboxes_.remove(a.id)) << "already gone";
}

TEST_F(MailboxTest, MakeRoomWithSpaceRemovesNothing) {
  const auto a = store_message("10", 1000);
  mailboxes_.mark_heard(a.id);
  EXPECT_TRUE(mailboxes_.make_room("10", kOneSecondBytes, MailboxLimits{}));
  EXPECT_EQ(ids("10"), std::vector<int64_t>{a.id});
  EXPECT_TRUE(mailboxes_.make_room("99", kOneSecondBytes, MailboxLimits{})) << "an empty mailbox has room";
}

TEST_F(MailboxTest, MakeRoomRemovesTheOldestHeardMessageAndNeverANewOne) {
  const auto oldest_new = store_message("10", 1000);
  const auto old_heard = store_message("10", 2000);
  const auto newer_heard = store_message("10", 3000);
  mailboxes_.mark_heard(old_heard.id);
  mailboxes_.mark_heard(newer_heard.id);
  const MailboxLimits limits{3, 1024 * 1024};

  ASSERT_TRUE(mailboxes_.make_room("10", kOneSecondBytes, limits));
  EXPECT_EQ(ids("10"), (std::vector<int64_t>{oldest_new.id, newer_heard.id}));
  EXPECT_FALSE(fs::exists(mailboxes_.path_of(old_heard)));
  EXPECT_TRUE(fs::exists(mailboxes_.path_of(oldest_new)));
  const auto counts = mailboxes_.counts("10");
  EXPECT_EQ(counts.new_messages, 1);
  EXPECT_EQ(counts.old_messages, 1);
}

TEST_F(MailboxTest, MakeRoomInAMailboxFullOfNewMessagesIsFalse) {
  const auto a = store_message("10", 1000);
  const auto b = store_message("10", 2000);
  const MailboxLimits limits{2, 1024 * 1024};
  EXPECT_FALSE(mailboxes_.make_room("10", kOneSecondBytes, limits));
  EXPECT_EQ(ids("10"), (std::vector<int64_t>{a.id, b.id}));
  EXPECT_EQ(testing::files_under(folder()).size(), 2u);
  EXPECT_TRUE(mailboxes_.make_room("11", kOneSecondBytes, limits)) << "another mailbox has its own limit";
}

TEST_F(MailboxTest, MakeRoomFreesBytesForTheTotalSizeLimit) {
  const auto a = store_message("10", 1000);
  const auto b = store_message("10", 2000);
  const auto c = store_message("10", 3000);
  for (const auto& row : {a, b, c}) mailboxes_.mark_heard(row.id);
  // Room for four 1-second messages: a 3-second one needs the two oldest gone.
  const MailboxLimits limits{50, 4 * kOneSecondBytes};
  ASSERT_TRUE(mailboxes_.make_room("10", 3 * kOneSecondBytes, limits));
  EXPECT_EQ(ids("10"), std::vector<int64_t>{c.id});
  EXPECT_EQ(testing::files_under(folder()), std::vector<std::string>{c.file});
}

TEST_F(MailboxTest, MakeRoomRemovesNothingWhenHeardMessagesCannotMakeEnoughRoom) {
  const auto heard = store_message("10", 1000);
  const auto fresh = store_message("10", 2000, 3);
  mailboxes_.mark_heard(heard.id);
  // Even without the heard message the new one leaves too little room: losing it would gain nothing.
  const MailboxLimits limits{50, 4 * kOneSecondBytes};
  EXPECT_FALSE(mailboxes_.make_room("10", 2 * kOneSecondBytes, limits));
  EXPECT_EQ(ids("10"), (std::vector<int64_t>{heard.id, fresh.id}));
  EXPECT_TRUE(fs::exists(mailboxes_.path_of(heard)));
}

TEST_F(MailboxTest, InvalidMailboxNamesAreRefusedAndNothingIsWritten) {
  for (const std::string& name :
       std::vector<std::string>{"", "../etc", "10/11", "..", "10 ", "\xc3\xa4", std::string(33, '1')}) {
    auto result = mailboxes_.store(name, "1", "", 1000, testing::audio(0.1));
    ASSERT_TRUE(std::holds_alternative<std::string>(result)) << "accepted mailbox '" << name << "'";
    EXPECT_FALSE(Mailboxes::valid_mailbox(name)) << name;
  }
  EXPECT_TRUE(Mailboxes::valid_mailbox("10"));
  EXPECT_TRUE(Mailboxes::valid_mailbox("office2"));
  EXPECT_TRUE(store_->voice_messages().list_all().empty());
  EXPECT_TRUE(testing::files_under(dir_.path()).empty());
}

TEST(MailboxFolderTest, UnusableFolderGivesAnErrorAndLeavesNoFileAndNoRow) {
  // A folder under a regular file cannot be created, even by root (for whom a 0555 folder is
  // still writable, and tests may run as root).
  testing::TempDir dir;
  testing::write_text(dir.file("plain-file"), "x");
  auto store = storage::open_memory_store();
  Mailboxes mailboxes(store->voice_messages(), dir.file("plain-file/voicemail"));
  auto result = mailboxes.store("10", "+4930123456", "", 1000, testing::audio(1));
  ASSERT_TRUE(std::holds_alternative<std::string>(result));
  EXPECT_NE(std::get<std::string>(result).find("plain-file"), std::string::npos) << std::get<std::string>(result);
  EXPECT_TRUE(store->voice_messages().list_all().empty());
  EXPECT_EQ(testing::files_under(dir.path()), std::vector<std::string>{"plain-file"});
}

TEST(MailboxFolderTest, WritableBytesIsTheFreeSpaceLessTheReserveOrWhyNot) {
  testing::TempDir dir;
  auto store = storage::open_memory_store();
  Mailboxes mailboxes(store->voice_messages(), dir.file("voicemail"));
  auto space = mailboxes.writable_bytes("10");
  ASSERT_TRUE(std::holds_alternative<int64_t>(space)) << std::get<std::string>(space);
  EXPECT_GE(std::get<int64_t>(space), 0);
  EXPECT_TRUE(std::filesystem::is_directory(dir.file("voicemail/10"))) << "the mailbox's folder is made";
  EXPECT_TRUE(std::holds_alternative<std::string>(mailboxes.writable_bytes("../etc")));
  testing::write_text(dir.file("plain-file"), "x");
  Mailboxes unusable(store->voice_messages(), dir.file("plain-file/voicemail"));
  auto why = unusable.writable_bytes("10");
  ASSERT_TRUE(std::holds_alternative<std::string>(why));
  EXPECT_NE(std::get<std::string>(why).find("plain-file"), std::string::npos) << std::get<std::string>(why);
}

TEST_F(MailboxTest, MailboxFolderThatCannotBeMadeGivesAnError) {
  testing::write_text(dir_.file("voicemail/10"), "not a folder");
  auto result = mailboxes_.store("10", "1", "", 1000, testing::audio(1));
  ASSERT_TRUE(std::holds_alternative<std::string>(result));
  EXPECT_TRUE(mailboxes_.list("10").empty());
  EXPECT_EQ(testing::read_bytes(dir_.file("voicemail/10")), "not a folder");
}

// The flash filling up half way through a message. RLIMIT_FSIZE makes write() fail with EFBIG
// at a chosen size, for root too, without filling a real disk.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    previous_handler_ = signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &previous_);
    rlimit limited = previous_;
    limited.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limited);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &previous_);
    signal(SIGXFSZ, previous_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit previous_{};
  sighandler_t previous_handler_;
};

TEST_F(MailboxTest, FlashFullMidMessageLeavesNoHalfFileAndNoRow) {
  const auto kept = store_message("10", 500);
  std::variant<VoiceMessageRow, std::string> result;
  {
    FileSizeLimit limit(100 * 1024);
    result = mailboxes_.store("10", "1", "", 1000, testing::audio(10));  // 160 kB
  }
  ASSERT_TRUE(std::holds_alternative<std::string>(result));
  EXPECT_FALSE(std::get<std::string>(result).empty());
  EXPECT_EQ(ids("10"), std::vector<int64_t>{kept.id});
  EXPECT_EQ(testing::files_under(folder()), std::vector<std::string>{kept.file}) << "no .tmp, no half .wav";
}

// A repository whose insert fails, as on a database that went read-only under us.
class FailingInsertRepository final : public storage::VoiceMessageRepository {
 public:
  explicit FailingInsertRepository(storage::VoiceMessageRepository& real) : real_(real) {}
  int64_t insert(const VoiceMessageRow&) override { throw storage::StorageError("storage: disk I/O error"); }
  std::vector<VoiceMessageRow> list(const std::string& mailbox) override { return real_.list(mailbox); }
  std::optional<VoiceMessageRow> find(int64_t id) override { return real_.find(id); }
  void set_heard(int64_t id, bool heard) override { real_.set_heard(id, heard); }
  void remove(int64_t id) override { real_.remove(id); }
  std::vector<VoiceMessageRow> list_all() override { return real_.list_all(); }

 private:
  storage::VoiceMessageRepository& real_;
};

TEST(MailboxFolderTest, FailedInsertTakesTheFileBack) {
  testing::TempDir dir;
  auto store = storage::open_memory_store();
  FailingInsertRepository repo(store->voice_messages());
  Mailboxes mailboxes(repo, dir.file("voicemail"));
  auto result = mailboxes.store("10", "1", "", 1000, testing::audio(1));
  ASSERT_TRUE(std::holds_alternative<std::string>(result));
  EXPECT_NE(std::get<std::string>(result).find("disk I/O error"), std::string::npos) << std::get<std::string>(result);
  EXPECT_TRUE(testing::files_under(dir.path()).empty());
  EXPECT_TRUE(store->voice_messages().list_all().empty());
}

TEST_F(MailboxTest, ReconcileDropsRowsWhoseFileIsMissing) {
  const auto lost = store_message("10", 1000);
  const auto kept = store_message("10", 2000);
  fs::remove(mailboxes_.path_of(lost));
  mailboxes_.reconcile();
  EXPECT_EQ(ids("10"), std::vector<int64_t>{kept.id});
  EXPECT_TRUE(fs::exists(mailboxes_.path_of(kept)));
}

TEST_F(MailboxTest, ReconcileDeletesFilesWithoutRowsAndPartialFiles) {
  const auto kept = store_message("10", 2000);
  // A crash between rename and insert, and one mid-write; and a file that is not ours.
  testing::write_text(dir_.file("voicemail/10/1000-deadbeef.wav"), "RIFF");
  testing::write_text(dir_.file("voicemail/10/1500-cafef00d.wav.tmp"), "RIF");
  fs::create_directories(dir_.file("voicemail/11"));
  testing::write_text(dir_.file("voicemail/11/1600-00000000.wav"), "RIFF");
  testing::write_text(dir_.file("voicemail/10/greeting.txt"), "hello");

  mailboxes_.reconcile();
  EXPECT_EQ(testing::files_under(folder()), (std::vector<std::string>{kept.file, "10/greeting.txt"}));
  EXPECT_EQ(ids("10"), std::vector<int64_t>{kept.id});
}

TEST(MailboxFolderTest, ReconcileOfAMissingFolderDropsEveryRow) {
  testing::TempDir dir;
  auto store = storage::open_memory_store();
  VoiceMessageRow orphan;
  orphan.mailbox = "10";
  orphan.received_ms = 1000;
  orphan.file = "10/1000-00000001.wav";
  store->voice_messages().insert(orphan);
  Mailboxes mailboxes(store->voice_messages(), dir.file("voicemail"));
  mailboxes.reconcile();
  EXPECT_TRUE(store->voice_messages().list_all().empty());
}

}  // namespace
}  // namespace b2bua::voicemail
