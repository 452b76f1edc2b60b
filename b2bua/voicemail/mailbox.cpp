#include "b2bua/voicemail/mailbox.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <string_view>
#include <system_error>

#include "b2bua/common/log.h"
#include "media/audio.h"
#include "media/wav.h"

namespace b2bua::voicemail {
namespace fs = std::filesystem;
namespace {

// media::write_wav()'s file: a 44-byte header, then 16-bit samples; written to the name plus
// kTemporarySuffix first, which reconcile() deletes when a crash left it behind.
constexpr int64_t kWavHeaderBytes = 44;
constexpr std::string_view kTemporarySuffix = ".tmp";
constexpr int64_t wav_file_bytes(size_t sample_count) { return kWavHeaderBytes + 2 * static_cast<int64_t>(sample_count); }

constexpr size_t kMaxMailboxLength = 32;
constexpr std::string_view kWavSuffix = ".wav";

bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A row's file as the database holds it: "<mailbox>/<name>.wav", nothing that climbs out.
bool plausible_file(const std::string& file) {
  const auto slash = file.find('/');
  return slash != std::string::npos && file.find('/', slash + 1) == std::string::npos &&
         Mailboxes::valid_mailbox(file.substr(0, slash)) && file.find("..") == std::string::npos &&
         ends_with(file, kWavSuffix);
}

std::string absolute_folder(std::string folder) {
  std::error_code error;
  auto absolute = fs::absolute(folder, error);
  return error ? folder : absolute.lexically_normal().string();
}

}  // namespace

bool Mailboxes::valid_mailbox(const std::string& mailbox) {
  if (mailbox.empty() || mailbox.size() > kMaxMailboxLength) return false;
  return std::all_of(mailbox.begin(), mailbox.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  });
}

Mailboxes::Mailboxes(storage::VoiceMessageRepository& repo, std::string folder)
    : repo_(repo), folder_(absolute_folder(std::move(folder))), random_(std::random_device{}()) {
  std::error_code error;
  fs::create_directories(folder_, error);
  if (error) {
    B2BUA_LOG(error, "voicemail", "folder_unusable", {{"folder", folder_}, {"reason", error.message()}});
  }
}

bool Mailboxes::make_room(const std::string& mailbox, int64_t max_bytes, const MailboxLimits& limits) {
  const auto rows = repo_.list(mailbox);
  auto count = static_cast<int64_t>(rows.size());
  int64_t total = 0;
  for (const auto& row : rows) total += row.size_bytes;
  const int64_t total_before = total;
  const int64_t incoming = std::max<int64_t>(max_bytes, 0);
  auto fits = [&] { return count + 1 <= limits.max_messages && total + incoming <= limits.max_total_bytes; };

  // Plan first, delete after: heard messages are only worth losing if that makes the room.
  std::vector<const storage::VoiceMessageRow*> victims;
  for (const auto& row : rows) {
    if (fits()) break;
    if (!row.heard) continue;
    victims.push_back(&row);
    --count;
    total -= row.size_bytes;
  }
  if (!fits()) {
    int new_messages = 0;
    for (const auto& row : rows) new_messages += row.heard ? 0 : 1;
    B2BUA_LOG(info, "voicemail", "voicemail_full",
              {{"mailbox", mailbox}, {"messages", rows.size()}, {"new", new_messages}, {"bytes", total_before},
               {"wanted_bytes", incoming}, {"max_messages", limits.max_messages},
               {"max_bytes", limits.max_total_bytes}});
    return false;
  }
  for (const auto* row : victims) {
    repo_.remove(row->id);
    delete_file(*row, "pruned");
    B2BUA_LOG(info, "voicemail", "voicemail_pruned",
              {{"mailbox", mailbox}, {"id", row->id}, {"received_ms", row->received_ms}, {"bytes", row->size_bytes}});
  }
  if (!victims.empty()) changed(mailbox);
  return true;
}

std::variant<fs::path, std::string> Mailboxes::box_folder(const std::string& mailbox) const {
  if (!valid_mailbox(mailbox)) return std::string("invalid mailbox name");
  std::error_code error;
  fs::path box = fs::path(folder_) / mailbox;
  fs::create_directories(box, error);
  if (error) return "cannot create folder " + box.string() + ": " + error.message();
  return box;
}

std::variant<int64_t, std::string> Mailboxes::writable_bytes(const std::string& mailbox) {
  auto folder = box_folder(mailbox);
  if (auto* failure = std::get_if<std::string>(&folder)) return *failure;
  const fs::path& box = std::get<fs::path>(folder);
  // access() reports a read-only mount (EROFS) to root too, whom permissions never stop.
  if (::access(box.c_str(), W_OK) != 0) return "cannot write to " + box.string() + ": " + std::strerror(errno);
  struct statvfs fs_info {};
  if (::statvfs(box.c_str(), &fs_info) != 0) {
    return "cannot read the free space of " + box.string() + ": " + std::strerror(errno);
  }
  const int64_t free_bytes = static_cast<int64_t>(fs_info.f_bavail) * static_cast<int64_t>(fs_info.f_frsize);
  return std::max<int64_t>(0, free_bytes - kFlashReserve);
}

std::variant<storage::VoiceMessageRow, std::string> Mailboxes::store(const std::string& mailbox,
                                                                      const std::string& caller_number,
                                                                      const std::string& caller_name,
                                                                      int64_t received_ms,
                                                                      const std::vector<int16_t>& samples) {
  auto refuse = [&](std::string reason) -> std::variant<storage::VoiceMessageRow, std::string> {
    B2BUA_LOG(error, "voicemail", "voicemail_not_stored", {{"mailbox", mailbox}, {"reason", reason}});
    return reason;
  };
  if (auto box = box_folder(mailbox); std::holds_alternative<std::string>(box)) {
    return refuse(std::get<std::string>(box));
  }

  storage::VoiceMessageRow row;
  row.mailbox = mailbox;
  row.caller_number = caller_number;
  row.caller_name = caller_name;
  row.received_ms = received_ms;
  row.duration_ms = static_cast<int>(static_cast<int64_t>(samples.size()) * 1000 / media::kAudioRate);
  row.size_bytes = wav_file_bytes(samples.size());
  row.file = new_file_name(mailbox, received_ms);
  const std::string path = path_of(row);

  if (std::string failure = media::write_wav(path, samples); !failure.empty()) return refuse(failure);
  try {
    row.id = repo_.insert(row);
  } catch (const storage::StorageError& storage_error) {
    // The file is complete but has no row: take it back so nothing is left half stored.
    std::remove(path.c_str());
    return refuse(std::string("cannot save the message: ") + storage_error.what());
  }
  B2BUA_LOG(info, "voicemail", "voicemail_stored",
            {{"mailbox", mailbox}, {"id", row.id}, {"caller", caller_number.empty() ? "withheld" : caller_number},
             {"duration_ms", row.duration_ms}, {"bytes", row.size_bytes}});
  changed(mailbox);
  return row;
}

std::vector<storage::VoiceMessageRow> Mailboxes::list(const std::string& mailbox) { return repo_.list(mailbox); }

MessageCounts Mailboxes::counts(const std::string& mailbox) {
  MessageCounts counts;
  for (const auto& row : repo_.list(mailbox)) ++(row.heard ? counts.old_messages : counts.new_messages);
  return counts;
}

bool Mailboxes::mark_heard(int64_t id) {
  const auto row = repo_.find(id);
  if (!row) return false;
  if (!row->heard) {
    repo_.set_heard(id, true);
    changed(row->mailbox);
  }
  return true;
}

bool Mailboxes::remove(int64_t id) {
  const auto row = repo_.find(id);
  if (!row) return false;
  // Row first (committed when remove() returns), then the file: a crash in between leaves a
  // file without a row, which reconcile() deletes; never a listed message without audio.
  repo_.remove(id);
  delete_file(*row, "removed");
  B2BUA_LOG(info, "voicemail", "voicemail_removed", {{"mailbox", row->mailbox}, {"id", id}});
  changed(row->mailbox);
  return true;
}

std::string Mailboxes::path_of(const storage::VoiceMessageRow& row) const {
  return (fs::path(folder_) / row.file).string();
}

void Mailboxes::reconcile() {
  int rows_dropped = 0, files_deleted = 0, temporaries_deleted = 0;
  std::set<std::string> files_with_rows;
  for (const auto& row : repo_.list_all()) {
    std::error_code error;
    const bool present = plausible_file(row.file) && fs::is_regular_file(path_of(row), error);
    if (present) {
      files_with_rows.insert(row.file);
      continue;
    }
    repo_.remove(row.id);
    ++rows_dropped;
    B2BUA_LOG(warn, "voicemail", "voicemail_row_without_file",
              {{"mailbox", row.mailbox}, {"id", row.id}, {"file", row.file}});
  }

  std::error_code error;
  for (fs::directory_iterator box(folder_, error), end; !error && box != end; box.increment(error)) {
    std::error_code entry_error;
    if (!box->is_directory(entry_error)) continue;
    const std::string mailbox = box->path().filename().string();
    for (fs::directory_iterator file(box->path(), entry_error); !entry_error && file != end;
         file.increment(entry_error)) {
      const std::string name = file->path().filename().string();
      const std::string relative = mailbox + "/" + name;
      const bool temporary = ends_with(name, kTemporarySuffix);
      const bool orphan = ends_with(name, kWavSuffix) && files_with_rows.count(relative) == 0;
      if (!temporary && !orphan) continue;  // not ours: left alone
      std::error_code remove_error;
      fs::remove(file->path(), remove_error);
      if (remove_error) {
        B2BUA_LOG(warn, "voicemail", "voicemail_cleanup_failed", {{"file", relative}, {"reason", remove_error.message()}});
        continue;
      }
      ++(temporary ? temporaries_deleted : files_deleted);
      B2BUA_LOG(warn, "voicemail", temporary ? "voicemail_partial_file_deleted" : "voicemail_file_without_row",
                {{"file", relative}});
    }
  }
  B2BUA_LOG(info, "voicemail", "voicemail_reconciled",
            {{"folder", folder_}, {"rows_dropped", rows_dropped}, {"files_deleted", files_deleted},
             {"partial_files_deleted", temporaries_deleted}});
}

std::string Mailboxes::new_file_name(const std::string& mailbox, int64_t received_ms) {
  // The id is not known before the row, which comes after the file: a random tag keeps two
  // messages of the same millisecond apart instead.
  char tag[9];
  for (;;) {
    std::snprintf(tag, sizeof tag, "%08x", static_cast<unsigned>(random_()));
    std::string file = mailbox + "/" + std::to_string(received_ms) + "-" + tag + std::string(kWavSuffix);
    std::error_code error;
    const fs::path path = fs::path(folder_) / file;
    if (!fs::exists(path, error) && !fs::exists(path.string() + std::string(kTemporarySuffix), error)) return file;
  }
}

void Mailboxes::delete_file(const storage::VoiceMessageRow& row, const char* reason) {
  if (!plausible_file(row.file)) return;  // a damaged row must not make us delete elsewhere
  std::error_code error;
  fs::remove(path_of(row), error);
  if (error) {
    // The row is gone already; reconcile() deletes the file at the next start.
    B2BUA_LOG(warn, "voicemail", "voicemail_file_not_deleted",
              {{"file", row.file}, {"reason", error.message()}, {"while", reason}});
  }
}

}  // namespace b2bua::voicemail
