// Burst benchmark for the storage layer: N binding writes and N call-record inserts, issued from
// one thread standing in for the SIP thread, two ways:
//   queued: through the Store (the daemon's path): the call only enqueues; the storage thread
//           group-commits; "durable" is when flush() returns.
//   direct: the anchor: the same SQL repository on the calling thread, one transaction (and one
//           fsync) per write, as if there were no storage thread.
// Prints one markdown table row per run; exits non-zero if any row is missing afterwards.
//
// Usage: storage_bench --dir DIR --label NAME [--rows N] [--direct-rows N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "storage/binding_repository.h"
#include "storage/call_record_repository.h"
#include "storage/database.h"
#include "storage/store.h"

namespace {

using b2bua::storage::BindingRow;
using b2bua::storage::CallRecordRow;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string dir;
  std::string label;
  size_t rows = 10000;
  size_t direct_rows = 10000;
};

struct Result {
  std::vector<double> latencies_us;
  double durable_ms = 0;
};

std::vector<BindingRow> make_bindings(size_t n) {
  std::vector<BindingRow> rows(n);
  for (size_t i = 0; i < n; ++i) {
    BindingRow& row = rows[i];
    row.aor = std::to_string(100 + i % 200);
    row.contact = "sip:" + row.aor + "@192.168.1." + std::to_string(i % 250) + ":" + std::to_string(5060 + i);
    row.call_id = "reg" + std::to_string(i) + "@192.168.1.20";
    row.cseq = static_cast<uint32_t>(i);
    row.expires_at = 4102444800;
    row.transport = "udp";
    row.source = "192.168.1." + std::to_string(i % 250) + ":5060";
    row.user_agent = "Yealink SIP-T46S 66.86.0.15";
    row.updated_at = 1700000000;
  }
  return rows;
}

std::vector<CallRecordRow> make_call_records(size_t n) {
  std::vector<CallRecordRow> rows(n);
  for (size_t i = 0; i < n; ++i) {
    CallRecordRow& row = rows[i];
    row.call_id = "call-" + std::to_string(i);
    row.direction = i % 2 == 0 ? "outbound" : "inbound";
    row.extension = std::to_string(100 + i % 200);
    row.trunk = "provider";
    row.remote_number = "+49301234" + std::to_string(i);
    row.start_ms = 1700000000000 + static_cast<int64_t>(i);
    row.answer_ms = row.start_ms + 3000;
    row.end_ms = row.start_ms + 60000;
    row.final_code = 200;
    row.hangup_by = "caller";
    row.media_stats_json = R"({"lan":{"rx":3000,"tx":3000,"lost":0},"wan":{"rx":2998,"tx":3000,"lost":2}})";
  }
  return rows;
}

// Times each call of `write(i)` and the whole run up to `make_durable()` returning.
Result time_burst(size_t n, const std::function<void(size_t)>& write, const std::function<void()>& make_durable) {
  Result result;
  result.latencies_us.reserve(n);
  const auto start = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    const auto before = Clock::now();
    write(i);
    result.latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - before).count());
  }
  make_durable();
  result.durable_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return result;
}

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const auto index = static_cast<size_t>(p * static_cast<double>(values.size() - 1));
  return values[index];
}

void print_row(const Options& options, const char* workload, const char* mode, size_t n, const Result& r) {
  std::printf("| %s | %s | %s | %zu | %.1f | %.1f | %.1f | %.0f | %.0f |\n", options.label.c_str(), workload, mode, n,
              percentile(r.latencies_us, 0.50), percentile(r.latencies_us, 0.99),
              *std::max_element(r.latencies_us.begin(), r.latencies_us.end()), r.durable_ms,
              static_cast<double>(n) / (r.durable_ms / 1000.0));
  std::fflush(stdout);
}

bool check(bool ok, const std::string& what) {
  if (!ok) std::fprintf(stderr, "storage_bench: MISSING ROWS: %s\n", what.c_str());
  return ok;
}

std::string fresh_db(const Options& options, const std::string& name) {
  const std::string path = options.dir + "/" + name;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return path;
}

bool run_queued(const Options& options) {
  namespace s = b2bua::storage;
  bool ok = true;
  {
    const auto rows = make_bindings(options.rows);
    auto store = s::open_sqlite_store(fresh_db(options, "queued-bindings.db"));
    auto& repo = store->bindings();
    print_row(options, "bindings", "queued", rows.size(),
              time_burst(rows.size(), [&](size_t i) { repo.save(rows[i]); }, [&] { store->flush(); }));
    ok &= check(repo.load_unexpired(0).size() == rows.size(), "queued bindings");
  }
  {
    const auto rows = make_call_records(options.rows);
    auto store = s::open_sqlite_store(fresh_db(options, "queued-cdrs.db"));
    auto& repo = store->call_records();
    print_row(options, "call records", "queued", rows.size(),
              time_burst(rows.size(), [&](size_t i) { repo.insert(rows[i]); }, [&] { store->flush(); }));
    ok &= check(repo.recent(rows.size() + 1).size() == rows.size(), "queued call records");
  }
  return ok;
}

bool run_direct(const Options& options) {
  namespace s = b2bua::storage;
  bool ok = true;
  {
    const auto rows = make_bindings(options.direct_rows);
    auto connection = s::open_database(fresh_db(options, "direct-bindings.db"));
    s::SqliteBindingRepository repo(connection);
    print_row(options, "bindings", "direct (anchor)", rows.size(),
              time_burst(rows.size(), [&](size_t i) { repo.save(rows[i]); }, [] {}));
    ok &= check(repo.load_unexpired(0).size() == rows.size(), "direct bindings");
  }
  {
    const auto rows = make_call_records(options.direct_rows);
    auto connection = s::open_database(fresh_db(options, "direct-cdrs.db"));
    s::SqliteCallRecordRepository repo(connection);
    print_row(options, "call records", "direct (anchor)", rows.size(),
              time_burst(rows.size(), [&](size_t i) { repo.insert(rows[i]); }, [] {}));
    ok &= check(repo.recent(rows.size() + 1).size() == rows.size(), "direct call records");
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const std::string value = argv[i + 1];
    if (key == "--dir") {
      options.dir = value;
    } else if (key == "--label") {
      options.label = value;
    } else if (key == "--rows") {
      options.rows = std::stoul(value);
    } else if (key == "--direct-rows") {
      options.direct_rows = std::stoul(value);
    } else {
      std::fprintf(stderr, "storage_bench: unknown option %s\n", key.c_str());
      return 2;
    }
  }
  if (options.dir.empty() || options.rows == 0 || options.direct_rows == 0) {
    std::fprintf(stderr, "usage: storage_bench --dir DIR --label NAME [--rows N] [--direct-rows N]\n");
    return 2;
  }
  try {
    std::filesystem::create_directories(options.dir);
    const bool ok = run_queued(options) && run_direct(options);
    std::filesystem::remove_all(options.dir);
    return ok ? 0 : 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "storage_bench: %s\n", error.what());
    return 1;
  }
}
