// The SQL behind each repository, run synchronously on the calling thread. The store runs them
// on its storage thread; the benchmark runs them directly as the anchor.
#pragma once

#include "storage/sqlite_handle.h"
#include "storage/store.h"

namespace b2bua::storage {

class SqliteBindingRepository final : public BindingRepository {
 public:
  explicit SqliteBindingRepository(Connection& connection);
  void save(const BindingRow& row) override;
  void remove(const std::string& aor, const std::string& contact) override;
  void remove_all(const std::string& aor) override;
  std::vector<BindingRow> load_unexpired(int64_t now) override;

 private:
  Connection& connection_;
  Statement upsert_;
  Statement delete_one_;
  Statement delete_aor_;
  Statement delete_expired_;
  Statement select_all_;
};

}  // namespace b2bua::storage
