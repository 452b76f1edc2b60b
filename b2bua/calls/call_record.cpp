// The call record: one row per call attempt, answered, failed or refused at admission, with
// the relay's counters of both sides when media was relayed (storage/store.h, call_records).
#include <algorithm>
#include <nlohmann/json.hpp>

#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"

#include "b2bua/calls/call_manager.h"
#include "storage/store.h"

namespace b2bua::calls {
namespace {

constexpr unsigned kPruneEveryRecords = 100;

nlohmann::json leg_stats_json(const media::LegStats& s) {
  return {{"packets", s.packets}, {"bytes", s.bytes}, {"packets_sent", s.packets_sent}, {"lost", s.lost},
          {"out_of_order", s.out_of_order}, {"dropped_source", s.dropped_source},
          {"dropped_invalid", s.dropped_invalid}, {"jitter_ms", s.jitter_ms}};
}

// The row of a call or a refused attempt. Its id is the start time and the serial, "-r" before
// the serial of an attempt refused at admission.
storage::CallRecordRow record_row(const CallRecord& r, uint64_t serial, bool refused,
                                  const std::array<media::LegStats, 2>* stats) {
  storage::CallRecordRow row;
  row.call_id = std::to_string(r.start_ms) + (refused ? "-r" : "-") + std::to_string(serial);
  row.direction = direction_name(r.direction);
  row.extension = r.extension;
  row.trunk = r.trunk;
  row.remote_number = r.remote_number;
  row.start_ms = r.start_ms;
  row.answer_ms = r.answer_ms;
  row.end_ms = r.end_ms;
  row.final_code = r.final_code;
  row.hangup_by = r.hangup_by;
  row.notes = r.notes;
  if (stats) {
    row.media_stats_json = nlohmann::json{{"a", leg_stats_json((*stats)[0])}, {"b", leg_stats_json((*stats)[1])}}.dump();
  }
  return row;
}

}  // namespace

void CallManager::write_record(const CallRecord& record, uint64_t serial, bool refused,
                               const std::array<media::LegStats, 2>* stats) {
  if (!context_.store) return;
  if (refused && !refused_record_allowed(clock::unix_ms())) return;
  context_.store->call_records().insert(record_row(record, serial, refused, stats));
  if (++records_since_prune_ >= kPruneEveryRecords) prune_records();
}

bool CallManager::refused_record_allowed(int64_t now_ms) {
  switch (refused_records_.take(now_ms)) {
    case RecordBudget::Take::granted: return true;
    case RecordBudget::Take::granted_again:
      B2BUA_LOG(info, "calls", "call_records_resumed", {{"suppressed_total", refused_records_.suppressed_total()}});
      return true;
    case RecordBudget::Take::first_suppressed:
      B2BUA_LOG(warn, "calls", "call_records_suppressed",
                {{"reason", "refused attempts come faster than one a second"},
                 {"suppressed_total", refused_records_.suppressed_total()}});
      return false;
    case RecordBudget::Take::suppressed: return false;
  }
  return false;
}

void CallManager::prune_records() {
  records_since_prune_ = 0;
  const config::Storage& s = config_->storage;
  int64_t before = s.call_records_days > 0 ? clock::unix_ms() - int64_t{s.call_records_days} * 86'400'000 : 0;
  context_.store->call_records().prune(static_cast<size_t>(s.call_records_max), before);
}

}  // namespace b2bua::calls
