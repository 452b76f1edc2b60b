#include "storage/queued_repositories.h"

namespace b2bua::storage {

void QueuedBindingRepository::save(const BindingRow& row) {
  thread_.write([&sql = sql_, row] { sql.save(row); });
}

void QueuedBindingRepository::remove(const std::string& aor, const std::string& contact) {
  thread_.write([&sql = sql_, aor, contact] { sql.remove(aor, contact); });
}

void QueuedBindingRepository::remove_all(const std::string& aor) {
  thread_.write([&sql = sql_, aor] { sql.remove_all(aor); });
}

std::vector<BindingRow> QueuedBindingRepository::load_unexpired(int64_t now) {
  return thread_.read([&] { return sql_.load_unexpired(now); });
}

void QueuedTrunkStateRepository::save(const TrunkStateRow& row) {
  thread_.write([&sql = sql_, row] { sql.save(row); });
}

std::optional<TrunkStateRow> QueuedTrunkStateRepository::load(const std::string& trunk) {
  return thread_.read([&] { return sql_.load(trunk); });
}

std::vector<TrunkStateRow> QueuedTrunkStateRepository::load_all() {
  return thread_.read([&] { return sql_.load_all(); });
}

void QueuedCallRecordRepository::insert(const CallRecordRow& row) {
  thread_.write([&sql = sql_, row] { sql.insert(row); });
}

std::vector<CallRecordRow> QueuedCallRecordRepository::recent(size_t limit) {
  return thread_.read([&] { return sql_.recent(limit); });
}

void QueuedCallRecordRepository::prune(size_t keep_newest, int64_t ended_before_ms) {
  thread_.write([&sql = sql_, keep_newest, ended_before_ms] { sql.prune(keep_newest, ended_before_ms); });
}

void QueuedExtensionSettingRepository::save(const ExtensionSettingRow& row) {
  thread_.write([&sql = sql_, row] { sql.save(row); });
}

void QueuedExtensionSettingRepository::remove(const std::string& extension, const std::string& key) {
  thread_.write([&sql = sql_, extension, key] { sql.remove(extension, key); });
}

std::vector<ExtensionSettingRow> QueuedExtensionSettingRepository::load_all() {
  return thread_.read([&] { return sql_.load_all(); });
}

// The writes go through read() too: it returns only once the transaction holding the work has
// committed, and rethrows its failure here rather than at the next flush().
int64_t QueuedVoiceMessageRepository::insert(const VoiceMessageRow& row) {
  return thread_.read([&] { return sql_.insert(row); });
}

std::vector<VoiceMessageRow> QueuedVoiceMessageRepository::list(const std::string& mailbox) {
  return thread_.read([&] { return sql_.list(mailbox); });
}

std::optional<VoiceMessageRow> QueuedVoiceMessageRepository::find(int64_t id) {
  return thread_.read([&] { return sql_.find(id); });
}

void QueuedVoiceMessageRepository::set_heard(int64_t id, bool heard) {
  thread_.read([&] {
    sql_.set_heard(id, heard);
    return true;  // read() needs a value to hand back
  });
}

void QueuedVoiceMessageRepository::remove(int64_t id) {
  thread_.read([&] {
    sql_.remove(id);
    return true;
  });
}

std::vector<VoiceMessageRow> QueuedVoiceMessageRepository::list_all() {
  return thread_.read([&] { return sql_.list_all(); });
}

}  // namespace b2bua::storage
