#include "storage/binding_repository.h"

#include <limits>

namespace b2bua::storage {

SqliteBindingRepository::SqliteBindingRepository(Connection& connection)
    : connection_(connection),
      upsert_(connection,
              "INSERT OR REPLACE INTO bindings (aor, contact, call_id, cseq, expires_at, q, transport,"
              " source, user_agent, instance, reachable, updated_at)"
              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
      delete_one_(connection, "DELETE FROM bindings WHERE aor = ?1 AND contact = ?2"),
      delete_aor_(connection, "DELETE FROM bindings WHERE aor = ?1"),
      delete_expired_(connection, "DELETE FROM bindings WHERE expires_at <= ?1"),
      select_all_(connection,
                  "SELECT aor, contact, call_id, cseq, expires_at, q, transport, source, user_agent,"
                  " instance, reachable, updated_at FROM bindings ORDER BY aor, q DESC, contact") {}

void SqliteBindingRepository::save(const BindingRow& row) {
  upsert_.bind(1, row.aor)
      .bind(2, row.contact)
      .bind(3, row.call_id)
      .bind(4, static_cast<int64_t>(row.cseq))
      .bind(5, row.expires_at)
      .bind(6, row.q)
      .bind(7, row.transport)
      .bind(8, row.source)
      .bind(9, row.user_agent)
      .bind(10, row.instance)
      .bind(11, int64_t{row.answering_options ? 1 : 0})
      .bind(12, row.updated_at)
      .run();
}

void SqliteBindingRepository::remove(const std::string& aor, const std::string& contact) {
  delete_one_.bind(1, aor).bind(2, contact).run();
}

void SqliteBindingRepository::remove_all(const std::string& aor) { delete_aor_.bind(1, aor).run(); }

std::vector<BindingRow> SqliteBindingRepository::load_unexpired(int64_t now) {
  Savepoint savepoint(connection_);
  delete_expired_.bind(1, now).run();
  std::vector<BindingRow> rows;
  ResetOnExit reset(select_all_);
  while (select_all_.step()) {
    BindingRow row;
    row.aor = select_all_.column_text(0);
    row.contact = select_all_.column_text(1);
    row.call_id = select_all_.column_text(2);
    // RFC 3261 section 8.1.1.5: CSeq is a 32-bit unsigned number.
    row.cseq = static_cast<uint32_t>(
        select_all_.column_int64_in(3, 0, std::numeric_limits<uint32_t>::max(), "bindings row aor=" + row.aor, "cseq"));
    row.expires_at = select_all_.column_int64(4);
    row.q = select_all_.column_double(5);
    row.transport = select_all_.column_text(6);
    row.source = select_all_.column_text(7);
    row.user_agent = select_all_.column_text(8);
    row.instance = select_all_.column_text(9);
    row.answering_options = select_all_.column_int64(10) != 0;
    row.updated_at = select_all_.column_int64(11);
    rows.push_back(std::move(row));
  }
  savepoint.release();
  return rows;
}

}  // namespace b2bua::storage
