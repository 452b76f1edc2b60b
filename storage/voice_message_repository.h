// SQL for the answering machine's messages; see binding_repository.h for why it is synchronous
// here, and VoiceMessageRepository in store.h for why the store keeps it so for its callers.
#pragma once

#include "storage/sqlite_handle.h"
#include "storage/store.h"

namespace b2bua::storage {

class SqliteVoiceMessageRepository final : public VoiceMessageRepository {
 public:
  explicit SqliteVoiceMessageRepository(Connection& connection);
  int64_t insert(const VoiceMessageRow& row) override;
  std::vector<VoiceMessageRow> list(const std::string& mailbox) override;
  std::optional<VoiceMessageRow> find(int64_t id) override;
  void set_heard(int64_t id, bool heard) override;
  void remove(int64_t id) override;
  std::vector<VoiceMessageRow> list_all() override;

 private:
  Connection& connection_;
  Statement insert_;
  Statement select_mailbox_;
  Statement select_one_;
  Statement update_heard_;
  Statement delete_one_;
  Statement select_all_;
};

}  // namespace b2bua::storage
