#include <gtest/gtest.h>

#include "storage/store.h"
#include "storage_test_support.h"

namespace b2bua::storage {
namespace {

using testing::make_call_record;

using CallRecordRepositoryTest = testing::StoreOnMemoryAndDisk;
INSTANTIATE_TEST_SUITE_P(Store, CallRecordRepositoryTest, ::testing::Bool(), testing::memory_or_disk_name);

TEST_P(CallRecordRepositoryTest, InsertThenRecentReturnsEveryFieldWithAnAssignedId) {
  CallRecordRow saved = make_call_record("c1");
  saved.id = 12345;  // ignored: the database assigns ids
  store_->call_records().insert(saved);
  const auto rows = store_->call_records().recent(10);
  ASSERT_EQ(rows.size(), 1u);
  const CallRecordRow& row = rows[0];
  EXPECT_GT(row.id, 0);
  EXPECT_NE(row.id, 12345);
  EXPECT_EQ(row.call_id, "c1");
  EXPECT_EQ(row.direction, saved.direction);
  EXPECT_EQ(row.extension, saved.extension);
  EXPECT_EQ(row.trunk, saved.trunk);
  EXPECT_EQ(row.remote_number, saved.remote_number);
  EXPECT_EQ(row.start_ms, saved.start_ms);
  EXPECT_EQ(row.answer_ms, saved.answer_ms);
  EXPECT_EQ(row.end_ms, saved.end_ms);
  EXPECT_EQ(row.final_code, saved.final_code);
  EXPECT_EQ(row.hangup_by, saved.hangup_by);
  EXPECT_EQ(row.media_stats_json, saved.media_stats_json);
  EXPECT_EQ(row.notes, saved.notes);
}

TEST_P(CallRecordRepositoryTest, NotesRoundTripEmptyAndWithEveryWord) {
  CallRecordRow plain = make_call_record("plain");
  plain.notes.clear();
  store_->call_records().insert(plain);
  CallRecordRow noted = make_call_record("noted");
  noted.notes = "blocked=global_number forwarded=busy:11 failover=main:503";
  store_->call_records().insert(noted);
  const auto rows = store_->call_records().recent(10);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].call_id, "noted");
  EXPECT_EQ(rows[0].notes, "blocked=global_number forwarded=busy:11 failover=main:503");
  EXPECT_EQ(rows[1].call_id, "plain");
  EXPECT_EQ(rows[1].notes, "");
}

TEST_P(CallRecordRepositoryTest, RecentIsNewestFirstAndHonoursTheLimit) {
  for (int i = 0; i < 5; ++i) store_->call_records().insert(make_call_record("c" + std::to_string(i)));
  const auto rows = store_->call_records().recent(3);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].call_id, "c4");
  EXPECT_EQ(rows[1].call_id, "c3");
  EXPECT_EQ(rows[2].call_id, "c2");
  EXPECT_GT(rows[0].id, rows[1].id);
  EXPECT_GT(rows[1].id, rows[2].id);
}

TEST_P(CallRecordRepositoryTest, RecentWithALargerLimitReturnsAll) {
  for (int i = 0; i < 4; ++i) store_->call_records().insert(make_call_record("c" + std::to_string(i)));
  EXPECT_EQ(store_->call_records().recent(100).size(), 4u);
  EXPECT_EQ(store_->call_records().recent(SIZE_MAX).size(), 4u);
}

TEST_P(CallRecordRepositoryTest, PruneKeepsTheNewestRows) {
  for (int i = 0; i < 6; ++i) store_->call_records().insert(make_call_record("c" + std::to_string(i)));
  store_->call_records().prune(4, 0);
  const auto rows = store_->call_records().recent(100);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows.front().call_id, "c5");
  EXPECT_EQ(rows.back().call_id, "c2");
  store_->call_records().prune(10, 0);
  EXPECT_EQ(store_->call_records().recent(100).size(), 4u) << "fewer rows than the bound: nothing goes";
}

TEST_P(CallRecordRepositoryTest, PruneDropsRowsThatEndedBeforeTheCutoff) {
  for (int64_t end : {1000, 2000, 3000}) {
    CallRecordRow row = make_call_record("ended-" + std::to_string(end));
    row.end_ms = end;
    store_->call_records().insert(row);
  }
  store_->call_records().prune(100, 2000);
  const auto rows = store_->call_records().recent(100);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.back().call_id, "ended-2000") << "a row that ended at the cutoff stays";
}

TEST_P(CallRecordRepositoryTest, RecentWithZeroLimitIsEmpty) {
  store_->call_records().insert(make_call_record("c1"));
  EXPECT_TRUE(store_->call_records().recent(0).empty());
}

TEST_P(CallRecordRepositoryTest, UnansweredCallKeepsZeroAnswerTime) {
  CallRecordRow row = make_call_record("busy");
  row.answer_ms = 0;
  row.final_code = 486;
  row.hangup_by = "callee";
  row.media_stats_json = "{}";
  store_->call_records().insert(row);
  const auto rows = store_->call_records().recent(1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].answer_ms, 0);
  EXPECT_EQ(rows[0].final_code, 486);
  EXPECT_EQ(rows[0].hangup_by, "callee");
}

}  // namespace
}  // namespace b2bua::storage
