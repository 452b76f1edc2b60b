#include "storage/trunk_state_repository.h"

#include <limits>

namespace b2bua::storage {
namespace {

constexpr const char* kColumns = "trunk, public_address, registered_until, last_status, updated_at";

TrunkStateRow read_row(const Statement& statement) {
  TrunkStateRow row;
  row.trunk = statement.column_text(0);
  row.public_address = statement.column_text(1);
  row.registered_until = statement.column_int64(2);
  row.last_status = static_cast<int>(statement.column_int64_in(3, 0, std::numeric_limits<int>::max(),
                                                               "trunk_state row trunk=" + row.trunk, "last_status"));
  row.updated_at = statement.column_int64(4);
  return row;
}

}  // namespace

SqliteTrunkStateRepository::SqliteTrunkStateRepository(Connection& connection)
    : connection_(connection),
      upsert_(connection, std::string("INSERT OR REPLACE INTO trunk_state (") + kColumns +
                              ") VALUES (?1, ?2, ?3, ?4, ?5)"),
      select_one_(connection, std::string("SELECT ") + kColumns + " FROM trunk_state WHERE trunk = ?1"),
      select_all_(connection, std::string("SELECT ") + kColumns + " FROM trunk_state ORDER BY trunk") {}

void SqliteTrunkStateRepository::save(const TrunkStateRow& row) {
  upsert_.bind(1, row.trunk)
      .bind(2, row.public_address)
      .bind(3, row.registered_until)
      .bind(4, int64_t{row.last_status})
      .bind(5, row.updated_at)
      .run();
}

std::optional<TrunkStateRow> SqliteTrunkStateRepository::load(const std::string& trunk) {
  select_one_.bind(1, trunk);
  ResetOnExit reset(select_one_);
  if (!select_one_.step()) return std::nullopt;
  return read_row(select_one_);
}

std::vector<TrunkStateRow> SqliteTrunkStateRepository::load_all() {
  std::vector<TrunkStateRow> rows;
  ResetOnExit reset(select_all_);
  while (select_all_.step()) rows.push_back(read_row(select_all_));
  return rows;
}

}  // namespace b2bua::storage
