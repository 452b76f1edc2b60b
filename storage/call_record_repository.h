// SQL for call detail records; see binding_repository.h for why it is synchronous.
#pragma once

#include "storage/sqlite_handle.h"
#include "storage/store.h"

namespace b2bua::storage {

class SqliteCallRecordRepository final : public CallRecordRepository {
 public:
  explicit SqliteCallRecordRepository(Connection& connection);
  void insert(const CallRecordRow& row) override;
  std::vector<CallRecordRow> recent(size_t limit) override;
  void prune(size_t keep_newest, int64_t ended_before_ms) override;

 private:
  Connection& connection_;
  Statement insert_;
  Statement select_recent_;
  Statement delete_beyond_;
  Statement delete_ended_before_;
};

}  // namespace b2bua::storage
