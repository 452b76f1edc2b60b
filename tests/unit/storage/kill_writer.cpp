// Writer process for the kill -9 test: writes bindings, call records and extension settings
// through the Store in bursts of varying size and prints each id on stdout only after flush()
// returned, i.e. once it is committed. Usage: storage_kill_writer DB_PATH FIRST_ID COUNT
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "storage/store.h"

namespace {

bool write_all(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DB_PATH FIRST_ID COUNT\n", argv[0]);
    return 2;
  }
  using namespace b2bua::storage;
  const long long first = std::atoll(argv[2]);
  const long long count = std::atoll(argv[3]);
  try {
    auto store = open_sqlite_store(argv[1]);
    // Burst sizes vary so that kills land in small and large transactions alike.
    constexpr int kBursts[] = {1, 17, 3, 64, 9, 250, 31, 2, 128};
    long long id = first;
    for (size_t burst = 0; id < first + count; ++burst) {
      const long long end = std::min(first + count, id + kBursts[burst % std::size(kBursts)]);
      std::string committed;
      for (long long i = id; i < end; ++i) {
        const std::string key = std::to_string(i);
        BindingRow binding;
        binding.aor = "ext" + std::to_string(i % 50);
        binding.contact = "sip:" + key + "@10.0.0.2";
        binding.call_id = key;
        binding.expires_at = 4102444800;  // 2100-01-01
        binding.transport = "udp";
        store->bindings().save(binding);
        CallRecordRow record;
        record.call_id = "call-" + key;
        record.direction = "outbound";
        record.media_stats_json = "{}";
        record.notes = "forwarded=busy:" + key;
        store->call_records().insert(record);
        ExtensionSettingRow setting;
        setting.extension = "ext" + std::to_string(i % 50);
        setting.key = "k" + key;
        setting.value = key;
        setting.updated_at = i;
        store->extension_settings().save(setting);
        committed += key + "\n";
      }
      store->flush();
      if (!write_all(committed)) return 1;
      id = end;
    }
  } catch (const StorageError& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 1;
  }
  return 0;
}
