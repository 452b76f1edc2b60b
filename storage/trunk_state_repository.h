// SQL for the trunk state table; see binding_repository.h for why it is synchronous.
#pragma once

#include "storage/sqlite_handle.h"
#include "storage/store.h"

namespace b2bua::storage {

class SqliteTrunkStateRepository final : public TrunkStateRepository {
 public:
  explicit SqliteTrunkStateRepository(Connection& connection);
  void save(const TrunkStateRow& row) override;
  std::optional<TrunkStateRow> load(const std::string& trunk) override;
  std::vector<TrunkStateRow> load_all() override;

 private:
  Connection& connection_;
  Statement upsert_;
  Statement select_one_;
  Statement select_all_;
};

}  // namespace b2bua::storage
