#include <memory>

#include "storage/binding_repository.h"
#include "storage/call_record_repository.h"
#include "storage/database.h"
#include "storage/extension_setting_repository.h"
#include "storage/queued_repositories.h"
#include "storage/storage_thread.h"
#include "storage/store.h"
#include "storage/trunk_state_repository.h"
#include "storage/voice_message_repository.h"

namespace b2bua::storage {
namespace {

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::string& path)
      : connection_(open_database(path)),
        sql_bindings_(connection_),
        sql_trunk_states_(connection_),
        sql_call_records_(connection_),
        sql_extension_settings_(connection_),
        sql_voice_messages_(connection_),
        thread_(connection_),
        bindings_(thread_, sql_bindings_),
        trunk_states_(thread_, sql_trunk_states_),
        call_records_(thread_, sql_call_records_),
        extension_settings_(thread_, sql_extension_settings_),
        voice_messages_(thread_, sql_voice_messages_) {}

  BindingRepository& bindings() override { return bindings_; }
  TrunkStateRepository& trunk_states() override { return trunk_states_; }
  CallRecordRepository& call_records() override { return call_records_; }
  ExtensionSettingRepository& extension_settings() override { return extension_settings_; }
  VoiceMessageRepository& voice_messages() override { return voice_messages_; }
  void flush() override { thread_.flush(); }

 private:
  // Declaration order is teardown order reversed: the thread drains and joins before the
  // statements it uses are finalized, and those before the connection closes.
  Connection connection_;
  SqliteBindingRepository sql_bindings_;
  SqliteTrunkStateRepository sql_trunk_states_;
  SqliteCallRecordRepository sql_call_records_;
  SqliteExtensionSettingRepository sql_extension_settings_;
  SqliteVoiceMessageRepository sql_voice_messages_;
  StorageThread thread_;
  QueuedBindingRepository bindings_;
  QueuedTrunkStateRepository trunk_states_;
  QueuedCallRecordRepository call_records_;
  QueuedExtensionSettingRepository extension_settings_;
  QueuedVoiceMessageRepository voice_messages_;
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path) {
  return std::make_unique<SqliteStore>(path);
}

}  // namespace b2bua::storage
