// The repositories the signalling plane sees: each call becomes a task on the storage thread,
// running the SQL repository there. Writes return at once; reads wait for their turn in the
// queue, so they see every write queued before them.
#pragma once

#include "storage/storage_thread.h"
#include "storage/store.h"

namespace b2bua::storage {

class QueuedBindingRepository final : public BindingRepository {
 public:
  QueuedBindingRepository(StorageThread& thread, BindingRepository& sql) : thread_(thread), sql_(sql) {}
  void save(const BindingRow& row) override;
  void remove(const std::string& aor, const std::string& contact) override;
  void remove_all(const std::string& aor) override;
  std::vector<BindingRow> load_unexpired(int64_t now) override;

 private:
  StorageThread& thread_;
  BindingRepository& sql_;
};

class QueuedTrunkStateRepository final : public TrunkStateRepository {
 public:
  QueuedTrunkStateRepository(StorageThread& thread, TrunkStateRepository& sql) : thread_(thread), sql_(sql) {}
  void save(const TrunkStateRow& row) override;
  std::optional<TrunkStateRow> load(const std::string& trunk) override;
  std::vector<TrunkStateRow> load_all() override;

 private:
  StorageThread& thread_;
  TrunkStateRepository& sql_;
};

class QueuedCallRecordRepository final : public CallRecordRepository {
 public:
  QueuedCallRecordRepository(StorageThread& thread, CallRecordRepository& sql) : thread_(thread), sql_(sql) {}
  void insert(const CallRecordRow& row) override;
  std::vector<CallRecordRow> recent(size_t limit) override;
  void prune(size_t keep_newest, int64_t ended_before_ms) override;

 private:
  StorageThread& thread_;
  CallRecordRepository& sql_;
};

class QueuedExtensionSettingRepository final : public ExtensionSettingRepository {
 public:
  QueuedExtensionSettingRepository(StorageThread& thread, ExtensionSettingRepository& sql)
      : thread_(thread), sql_(sql) {}
  void save(const ExtensionSettingRow& row) override;
  void remove(const std::string& extension, const std::string& key) override;
  std::vector<ExtensionSettingRow> load_all() override;

 private:
  StorageThread& thread_;
  ExtensionSettingRepository& sql_;
};

// Every call waits for its commit; see VoiceMessageRepository in store.h for why.
class QueuedVoiceMessageRepository final : public VoiceMessageRepository {
 public:
  QueuedVoiceMessageRepository(StorageThread& thread, VoiceMessageRepository& sql) : thread_(thread), sql_(sql) {}
  int64_t insert(const VoiceMessageRow& row) override;
  std::vector<VoiceMessageRow> list(const std::string& mailbox) override;
  std::optional<VoiceMessageRow> find(int64_t id) override;
  void set_heard(int64_t id, bool heard) override;
  void remove(int64_t id) override;
  std::vector<VoiceMessageRow> list_all() override;

 private:
  StorageThread& thread_;
  VoiceMessageRepository& sql_;
};

}  // namespace b2bua::storage
