#include "storage/extension_setting_repository.h"

namespace b2bua::storage {

SqliteExtensionSettingRepository::SqliteExtensionSettingRepository(Connection& connection)
    : upsert_(connection,
              "INSERT OR REPLACE INTO extension_settings (extension, key, value, updated_at)"
              " VALUES (?1, ?2, ?3, ?4)"),
      delete_one_(connection, "DELETE FROM extension_settings WHERE extension = ?1 AND key = ?2"),
      select_all_(connection,
                  "SELECT extension, key, value, updated_at FROM extension_settings ORDER BY extension, key") {}

void SqliteExtensionSettingRepository::save(const ExtensionSettingRow& row) {
  upsert_.bind(1, row.extension).bind(2, row.key).bind(3, row.value).bind(4, row.updated_at).run();
}

void SqliteExtensionSettingRepository::remove(const std::string& extension, const std::string& key) {
  delete_one_.bind(1, extension).bind(2, key).run();
}

std::vector<ExtensionSettingRow> SqliteExtensionSettingRepository::load_all() {
  std::vector<ExtensionSettingRow> rows;
  ResetOnExit reset(select_all_);
  while (select_all_.step()) {
    ExtensionSettingRow row;
    row.extension = select_all_.column_text(0);
    row.key = select_all_.column_text(1);
    row.value = select_all_.column_text(2);
    row.updated_at = select_all_.column_int64(3);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace b2bua::storage
