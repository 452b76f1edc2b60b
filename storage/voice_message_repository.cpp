#include "storage/voice_message_repository.h"

#include <limits>

namespace b2bua::storage {
namespace {

constexpr const char* kColumns =
    "id, mailbox, caller_number, caller_name, received_ms, duration_ms, size_bytes, file, heard";

std::string select(const std::string& tail) {
  return std::string("SELECT ") + kColumns + " FROM voice_messages " + tail;
}

VoiceMessageRow read_row(const Statement& statement) {
  VoiceMessageRow row;
  row.id = statement.column_int64(0);
  const std::string where = "voice_messages row id=" + std::to_string(row.id);
  row.mailbox = statement.column_text(1);
  row.caller_number = statement.column_text(2);
  row.caller_name = statement.column_text(3);
  row.received_ms = statement.column_int64(4);
  row.duration_ms =
      static_cast<int>(statement.column_int64_in(5, 0, std::numeric_limits<int>::max(), where, "duration_ms"));
  row.size_bytes = statement.column_int64_in(6, 0, std::numeric_limits<int64_t>::max(), where, "size_bytes");
  row.file = statement.column_text(7);
  row.heard = statement.column_int64_in(8, 0, 1, where, "heard") == 1;
  return row;
}

std::vector<VoiceMessageRow> read_rows(Statement& statement) {
  std::vector<VoiceMessageRow> rows;
  ResetOnExit reset(statement);
  while (statement.step()) rows.push_back(read_row(statement));
  return rows;
}

}  // namespace

SqliteVoiceMessageRepository::SqliteVoiceMessageRepository(Connection& connection)
    : connection_(connection),
      // The id is left to SQLite (rowid alias) and handed back by RETURNING, so no second
      // statement can slip in between the insert and reading the id.
      insert_(connection,
              "INSERT INTO voice_messages (mailbox, caller_number, caller_name, received_ms, duration_ms,"
              " size_bytes, file, heard) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id"),
      select_mailbox_(connection, select("WHERE mailbox = ?1 ORDER BY received_ms, id")),
      select_one_(connection, select("WHERE id = ?1")),
      update_heard_(connection, "UPDATE voice_messages SET heard = ?2 WHERE id = ?1"),
      delete_one_(connection, "DELETE FROM voice_messages WHERE id = ?1"),
      select_all_(connection, select("ORDER BY mailbox, received_ms, id")) {}

int64_t SqliteVoiceMessageRepository::insert(const VoiceMessageRow& row) {
  insert_.bind(1, row.mailbox)
      .bind(2, row.caller_number)
      .bind(3, row.caller_name)
      .bind(4, row.received_ms)
      .bind(5, int64_t{row.duration_ms})
      .bind(6, row.size_bytes)
      .bind(7, row.file)
      .bind(8, int64_t{row.heard ? 1 : 0});
  ResetOnExit reset(insert_);
  if (!insert_.step()) connection_.fail("insert into voice_messages returned no id");
  return insert_.column_int64(0);
}

std::vector<VoiceMessageRow> SqliteVoiceMessageRepository::list(const std::string& mailbox) {
  select_mailbox_.bind(1, mailbox);
  return read_rows(select_mailbox_);
}

std::optional<VoiceMessageRow> SqliteVoiceMessageRepository::find(int64_t id) {
  select_one_.bind(1, id);
  ResetOnExit reset(select_one_);
  if (!select_one_.step()) return std::nullopt;
  return read_row(select_one_);
}

void SqliteVoiceMessageRepository::set_heard(int64_t id, bool heard) {
  update_heard_.bind(1, id).bind(2, int64_t{heard ? 1 : 0}).run();
}

void SqliteVoiceMessageRepository::remove(int64_t id) { delete_one_.bind(1, id).run(); }

std::vector<VoiceMessageRow> SqliteVoiceMessageRepository::list_all() { return read_rows(select_all_); }

}  // namespace b2bua::storage
