// SQL for the settings phones changed with feature codes; see binding_repository.h for why it is
// synchronous.
#pragma once

#include "storage/sqlite_handle.h"
#include "storage/store.h"

namespace b2bua::storage {

class SqliteExtensionSettingRepository final : public ExtensionSettingRepository {
 public:
  explicit SqliteExtensionSettingRepository(Connection& connection);
  void save(const ExtensionSettingRow& row) override;
  void remove(const std::string& extension, const std::string& key) override;
  std::vector<ExtensionSettingRow> load_all() override;

 private:
  Statement upsert_;
  Statement delete_one_;
  Statement select_all_;
};

}  // namespace b2bua::storage
