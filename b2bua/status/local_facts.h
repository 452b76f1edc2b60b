// The machine's part of the health findings (health.h): the config file's permissions and
// secrets, the database's writability and the clock. Gathered on the status thread for every
// snapshot; the config file is parsed again only when it changed on disk.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "b2bua/config/config.h"
#include "b2bua/status/health.h"

namespace b2bua::status {

// Extension and trunk passwords that are easy to guess, by the config's own rule
// (config::weak_secret). An extension given only as HA1 cannot be judged and is left out.
std::vector<WeakSecret> weak_secrets(const config::Config& config);

// Why `database_path` cannot be written (the file, or its folder for SQLite's journal); nullopt
// when it can.
std::optional<std::string> database_unwritable(const std::string& database_path);

// When this binary was built (unix seconds, from the build's configure step; 0: not known).
int64_t build_time_s();

class LocalFactsSource {
 public:
  explicit LocalFactsSource(std::string config_path) : config_path_(std::move(config_path)) {}
  // Any thread.
  LocalFacts gather();

 private:
  struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileId&) const = default;
  };
  const std::string config_path_;
  std::mutex mutex_;
  FileId parsed_;            // the file version `from_config_` came from
  LocalFacts from_config_;   // holds_secrets, weak secrets, database path, WAN address and interface
};

}  // namespace b2bua::status
