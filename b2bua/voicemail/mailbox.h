// The answering machine's mailboxes: one per extension, each a folder of WAV files with one
// store row per file. This class owns both halves and keeps them paired across crashes, and
// applies the limits that keep a router's flash from filling with messages nobody deletes.
//
// Pairing: a file is written completely (tmp, fsync, rename) before its row is inserted, and
// a row is deleted before its file. So a crash leaves at worst a file without a row or a stray
// temporary, both of which reconcile() deletes at the next start; a row whose file vanished
// (deleted by hand, flash trouble) is dropped there too.
//
// Threads: SIP thread only, except path_of(), which any thread may call. store(), remove(),
// mark_heard() and a pruning make_room() wait for the flash (fsync of the file, commit of the
// row): tens of milliseconds, once per message, never per packet. Every method but store()
// throws storage::StorageError when the database fails; store() reports it as text.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "storage/store.h"

namespace b2bua::voicemail {

struct MailboxLimits {
  int max_messages = 50;                       // per mailbox
  int64_t max_total_bytes = 20 * 1024 * 1024;  // per mailbox
};

// RFC 3842 Voice-Message: new/old
struct MessageCounts {
  int new_messages = 0, old_messages = 0;
};

class Mailboxes {
 public:
  // `folder`: where WAV files live (created if missing; subfolder per mailbox). A folder that
  // cannot be created is logged here and reported by each store().
  Mailboxes(storage::VoiceMessageRepository& repo, std::string folder);

  // Room for one more message of up to `max_bytes` in `mailbox`? Makes room first by removing
  // the oldest HEARD messages (never a new one); false when the mailbox is full of new messages
  // (the caller hears "mailbox full"). Removes nothing when removing every heard message would
  // still not make room. Logs event=voicemail_pruned / voicemail_full.
  bool make_room(const std::string& mailbox, int64_t max_bytes, const MailboxLimits& limits);

  // How many bytes one more message of `mailbox` may take on the flash now: the file system's
  // free space (statvfs) less kFlashReserve, kept for the database that usually shares it; makes
  // the mailbox's folder if missing. An error text when the folder cannot be written to (a
  // read-only mount, a folder that cannot be made). Answering machines size the recording by it,
  // so a filling flash shortens messages and then says "mailbox full" instead of losing them.
  std::variant<int64_t, std::string> writable_bytes(const std::string& mailbox);
  static constexpr int64_t kFlashReserve = 64 * 1024;

  // Stores a finished recording (8 kHz mono 16-bit): writes the WAV crash-safely, then inserts
  // the row. Returns the row, or an error text (disk full, read-only folder, bad mailbox name,
  // database failure) with nothing left behind: no half file, no row.
  std::variant<storage::VoiceMessageRow, std::string> store(const std::string& mailbox,
                                                             const std::string& caller_number,
                                                             const std::string& caller_name, int64_t received_ms,
                                                             const std::vector<int16_t>& samples);

  // Oldest first.
  std::vector<storage::VoiceMessageRow> list(const std::string& mailbox);
  MessageCounts counts(const std::string& mailbox);
  // false when there is no such message.
  bool mark_heard(int64_t id);
  // Row and file; false when there is no such message.
  bool remove(int64_t id);
  // Absolute path of the row's file.
  std::string path_of(const storage::VoiceMessageRow& row) const;

  // At start: rows whose file is missing are removed; *.wav files without a row (a crash
  // between rename and insert) are deleted; *.tmp files deleted. Logs what it fixed.
  void reconcile();

  // A mailbox name usable as a folder name: 1 to 32 ASCII letters and digits, so nothing a
  // caller or config sends can reach outside the voicemail folder.
  static bool valid_mailbox(const std::string& mailbox);

  // Called after a mailbox's counts changed (a message stored, heard, removed or pruned), on
  // the thread that changed it: message waiting (message_waiting.h) tells the phones.
  void on_change(std::function<void(const std::string& mailbox)> listener) { listener_ = std::move(listener); }

 private:
  // The mailbox's folder, made if missing, or why it cannot be.
  std::variant<std::filesystem::path, std::string> box_folder(const std::string& mailbox) const;
  // A file name in `mailbox`'s folder that is not taken yet.
  std::string new_file_name(const std::string& mailbox, int64_t received_ms);
  void delete_file(const storage::VoiceMessageRow& row, const char* reason);

  void changed(const std::string& mailbox) {
    if (listener_) listener_(mailbox);
  }

  storage::VoiceMessageRepository& repo_;
  std::function<void(const std::string&)> listener_;
  std::string folder_;
  std::mt19937 random_;
};

}  // namespace b2bua::voicemail
