// The write queue seen through the Store: ordering, flush, concurrency, and how failures surface.
#include <gtest/gtest.h>

#include <map>
#include <thread>
#include <vector>

#include "raw_sqlite.h"
#include "storage/store.h"
#include "storage_test_support.h"

namespace b2bua::storage {
namespace {

using testing::make_binding;
using testing::make_call_record;

TEST(WriteQueueTest, WritesApplyInTheOrderTheyWereQueued) {
  auto store = open_memory_store();
  auto& bindings = store->bindings();
  BindingRow row = make_binding("10", "sip:a@10.0.0.2", 5000);
  for (uint32_t cseq = 1; cseq <= 200; ++cseq) {
    row.cseq = cseq;
    bindings.save(row);
  }
  bindings.remove("10", "sip:a@10.0.0.2");
  bindings.save(make_binding("10", "sip:b@10.0.0.2", 5000));
  bindings.remove_all("10");
  row.cseq = 999;
  bindings.save(row);
  const auto rows = bindings.load_unexpired(0);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].contact, "sip:a@10.0.0.2");
  EXPECT_EQ(rows[0].cseq, 999u);
}

TEST(WriteQueueTest, ReadSeesEveryWriteQueuedBeforeItWithoutFlush) {
  auto store = open_memory_store();
  for (int i = 0; i < 300; ++i) {
    store->call_records().insert(make_call_record("c" + std::to_string(i)));
    const auto newest = store->call_records().recent(1);
    ASSERT_EQ(newest.size(), 1u);
    ASSERT_EQ(newest[0].call_id, "c" + std::to_string(i));
  }
}

TEST(WriteQueueTest, FlushMakesQueuedWritesVisibleToAnotherConnection) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  auto store = open_sqlite_store(path);
  for (int i = 0; i < 1000; ++i) store->call_records().insert(make_call_record("c" + std::to_string(i)));
  store->bindings().save(make_binding("10", "sip:a@10.0.0.2", 5000));
  store->trunk_states().save(TrunkStateRow{"provider", "203.0.113.7:5062", 10, 200, 1});
  store->flush();
  testing::RawSqlite raw(path);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM call_records"), 1000);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM bindings"), 1);
  EXPECT_EQ(raw.text("SELECT public_address FROM trunk_state WHERE trunk = 'provider'"), "203.0.113.7:5062");
}

TEST(WriteQueueTest, FlushOnAnIdleStoreReturns) {
  auto store = open_memory_store();
  store->flush();
  store->flush();
  EXPECT_TRUE(store->call_records().recent(1).empty());
}

TEST(WriteQueueTest, ClosingTheStoreCommitsWhatIsStillQueued) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  {
    auto store = open_sqlite_store(path);
    for (int i = 0; i < 2000; ++i) store->call_records().insert(make_call_record("c" + std::to_string(i)));
  }
  testing::RawSqlite raw(path);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM call_records"), 2000);
}

TEST(WriteQueueTest, ManyThreadsWritingAtOnceLoseNothingAndKeepEachThreadsOrder) {
  testing::TempDir dir;
  auto store = open_sqlite_store(dir.file("b2bua.db"));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 400;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&store, t] {
      const std::string aor = "ext" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        CallRecordRow row = make_call_record("t" + std::to_string(t));
        row.start_ms = i;  // per-thread sequence number
        store->call_records().insert(row);
        BindingRow binding = make_binding(aor, "sip:" + aor + "@10.0.0.2", 5000);
        binding.cseq = static_cast<uint32_t>(i);
        store->bindings().save(binding);
        if (i % 97 == 0) store->flush();
      }
    });
  }
  for (auto& writer : writers) writer.join();
  store->flush();

  auto records = store->call_records().recent(kThreads * kPerThread + 10);
  ASSERT_EQ(records.size(), static_cast<size_t>(kThreads * kPerThread));
  std::map<std::string, int64_t> next_expected;
  for (auto it = records.rbegin(); it != records.rend(); ++it) {  // oldest first
    ASSERT_EQ(it->start_ms, next_expected[it->call_id]) << it->call_id;
    ++next_expected[it->call_id];
  }
  const auto bindings = store->bindings().load_unexpired(0);
  ASSERT_EQ(bindings.size(), static_cast<size_t>(kThreads));
  for (const auto& binding : bindings) EXPECT_EQ(binding.cseq, static_cast<uint32_t>(kPerThread - 1)) << binding.aor;
}

TEST(WriteQueueTest, FailedWriteIsReportedByTheNextFlushAndSparesItsNeighbours) {
  auto store = open_memory_store();
  BindingRow bad = make_binding("10", "sip:bad@10.0.0.2", 5000);
  bad.q = 2.0;  // RFC 3261 q-values are 0..1; the schema refuses it
  store->bindings().save(make_binding("10", "sip:before@10.0.0.2", 5000));
  store->bindings().save(bad);
  store->bindings().save(make_binding("10", "sip:after@10.0.0.2", 5000));
  try {
    store->flush();
    FAIL() << "flush() hid a failed write";
  } catch (const StorageError& error) {
    EXPECT_NE(std::string(error.what()).find("CHECK constraint failed"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find(":memory:"), std::string::npos) << error.what();
  }
  EXPECT_NO_THROW(store->flush());  // reported once
  const auto rows = store->bindings().load_unexpired(0);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].contact, "sip:after@10.0.0.2");
  EXPECT_EQ(rows[1].contact, "sip:before@10.0.0.2");
}

TEST(WriteQueueTest, ReadOfADamagedRowThrowsNamingTheRow) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  open_sqlite_store(path).reset();
  {
    testing::RawSqlite raw(path);
    raw.exec("INSERT INTO bindings (aor, contact, call_id, cseq, expires_at, q, updated_at)"
             " VALUES ('10', 'sip:x@10.0.0.2', 'c', -5, 5000, 1.0, 0)");
  }
  auto store = open_sqlite_store(path);
  try {
    store->bindings().load_unexpired(0);
    FAIL() << "a negative CSeq was accepted";
  } catch (const StorageError& error) {
    EXPECT_NE(std::string(error.what()).find("aor=10"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
  // The store keeps working after a failed read.
  store->call_records().insert(make_call_record("c1"));
  EXPECT_EQ(store->call_records().recent(5).size(), 1u);
}

}  // namespace
}  // namespace b2bua::storage
