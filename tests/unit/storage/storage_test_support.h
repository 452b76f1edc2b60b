// Helpers shared by the storage tests: a private temporary directory and sample rows.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "storage/store.h"

namespace b2bua::storage::testing {

// A fresh directory under the test temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::path(::testing::TempDir()) / "b2bua-storage-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs a suite against the in-memory store (false) and the on-disk store (true): one code path,
// but the disk adds WAL, fsync and the file checks.
class StoreOnMemoryAndDisk : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { store_ = GetParam() ? open_sqlite_store(dir_.file("b2bua.db")) : open_memory_store(); }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

inline std::string memory_or_disk_name(const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "disk" : "memory";
}

inline BindingRow make_binding(const std::string& aor, const std::string& contact, int64_t expires_at) {
  BindingRow row;
  row.aor = aor;
  row.contact = contact;
  row.call_id = "reg-" + aor + "@10.0.0.2";
  row.cseq = 7;
  row.expires_at = expires_at;
  row.q = 0.5;
  row.transport = "tcp";
  row.source = "10.0.0.2:40312";
  row.user_agent = "baresip 2.9";
  row.instance = "<urn:uuid:00000000-0000-1000-8000-0002a5d5c51b>";
  row.answering_options = false;
  row.updated_at = 1700000000;
  return row;
}

inline CallRecordRow make_call_record(const std::string& call_id) {
  CallRecordRow row;
  row.call_id = call_id;
  row.direction = "outbound";
  row.extension = "10";
  row.trunk = "provider";
  row.remote_number = "+4930123456";
  row.start_ms = 1700000000000;
  row.answer_ms = 1700000002000;
  row.end_ms = 1700000062000;
  row.final_code = 200;
  row.hangup_by = "caller";
  row.media_stats_json = R"({"lan":{"packets":3000},"wan":{"packets":2999}})";
  row.notes = "forwarded=busy:11 failover=main:503";
  return row;
}

inline ExtensionSettingRow make_setting(const std::string& extension, const std::string& key,
                                        const std::string& value) {
  return ExtensionSettingRow{extension, key, value, 1700000000};
}

inline VoiceMessageRow make_voice_message(const std::string& mailbox, int64_t received_ms) {
  VoiceMessageRow row;
  row.mailbox = mailbox;
  row.caller_number = "+4930123456";
  row.caller_name = "Erika Mustermann";
  row.received_ms = received_ms;
  row.duration_ms = 12500;
  row.size_bytes = 200044;
  row.file = mailbox + "/" + std::to_string(received_ms) + "-1a2b3c4d.wav";
  return row;
}

}  // namespace b2bua::storage::testing
