#include "storage/call_record_repository.h"

#include <algorithm>
#include <limits>

namespace b2bua::storage {

SqliteCallRecordRepository::SqliteCallRecordRepository(Connection& connection)
    : connection_(connection),
      // The id is left to SQLite (rowid alias): the row's own id is ignored on insert.
      insert_(connection,
              "INSERT INTO call_records (call_id, direction, extension, trunk, remote_number, start_ms,"
              " answer_ms, end_ms, final_code, hangup_by, media_stats_json, notes)"
              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
      // Newest = last inserted: records are written when a call ends, so id order is end order.
      select_recent_(connection,
                     "SELECT id, call_id, direction, extension, trunk, remote_number, start_ms,"
                     " answer_ms, end_ms, final_code, hangup_by, media_stats_json, notes"
                     " FROM call_records ORDER BY id DESC LIMIT ?1"),
      delete_beyond_(connection,
                     "DELETE FROM call_records WHERE id <= "
                     "(SELECT id FROM call_records ORDER BY id DESC LIMIT 1 OFFSET ?1)"),
      delete_ended_before_(connection, "DELETE FROM call_records WHERE end_ms < ?1") {}

void SqliteCallRecordRepository::insert(const CallRecordRow& row) {
  insert_.bind(1, row.call_id)
      .bind(2, row.direction)
      .bind(3, row.extension)
      .bind(4, row.trunk)
      .bind(5, row.remote_number)
      .bind(6, row.start_ms)
      .bind(7, row.answer_ms)
      .bind(8, row.end_ms)
      .bind(9, int64_t{row.final_code})
      .bind(10, row.hangup_by)
      .bind(11, row.media_stats_json)
      .bind(12, row.notes)
      .run();
}

namespace {
// A count as an SQLite integer, capped at its largest. Compared in uint64_t, which holds every
// size_t and int64_t's largest value: on 32-bit targets (armhf) size_t cannot hold the latter.
int64_t sql_count(size_t n) {
  return static_cast<int64_t>(std::min<uint64_t>(n, static_cast<uint64_t>(std::numeric_limits<int64_t>::max())));
}
}  // namespace

std::vector<CallRecordRow> SqliteCallRecordRepository::recent(size_t limit) {
  const auto capped = sql_count(limit);
  select_recent_.bind(1, capped);
  std::vector<CallRecordRow> rows;
  ResetOnExit reset(select_recent_);
  while (select_recent_.step()) {
    CallRecordRow row;
    row.id = select_recent_.column_int64(0);
    row.call_id = select_recent_.column_text(1);
    row.direction = select_recent_.column_text(2);
    row.extension = select_recent_.column_text(3);
    row.trunk = select_recent_.column_text(4);
    row.remote_number = select_recent_.column_text(5);
    row.start_ms = select_recent_.column_int64(6);
    row.answer_ms = select_recent_.column_int64(7);
    row.end_ms = select_recent_.column_int64(8);
    const int64_t code =
        select_recent_.column_int64_in(9, 0, 999, "call_records row id=" + std::to_string(row.id), "final_code");
    row.final_code = static_cast<int>(code);
    row.hangup_by = select_recent_.column_text(10);
    row.media_stats_json = select_recent_.column_text(11);
    row.notes = select_recent_.column_text(12);
    rows.push_back(std::move(row));
  }
  return rows;
}

void SqliteCallRecordRepository::prune(size_t keep_newest, int64_t ended_before_ms) {
  const auto keep = sql_count(keep_newest);
  delete_beyond_.bind(1, keep).run();
  if (ended_before_ms > 0) delete_ended_before_.bind(1, ended_before_ms).run();
}

}  // namespace b2bua::storage
