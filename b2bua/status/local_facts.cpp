#include "b2bua/status/local_facts.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "b2bua/common/clock.h"
#include "b2bua/config/config_loader.h"
#include "b2bua/status/wan_addresses.h"

namespace b2bua::status {
std::vector<WeakSecret> weak_secrets(const config::Config& config) {
  std::vector<WeakSecret> out;
  for (const auto& e : config.extensions) {
    if (!e.password) continue;
    if (auto why = config::weak_secret(*e.password, e.number); !why.empty()) out.push_back({"extension", e.number, why});
  }
  for (const auto& t : config.trunks) {
    // A trunk authenticated by its address only has no password to judge.
    if (!t.enabled || t.password.empty()) continue;
    auto why = config::weak_secret(t.password, t.username, "the trunk's username");
    if (why.empty() && t.auth_username) why = config::weak_secret(t.password, *t.auth_username, "the trunk's username");
    if (!why.empty()) out.push_back({"trunk", t.name, why});
  }
  return out;
}

std::optional<std::string> database_unwritable(const std::string& database_path) {
  if (::access(database_path.c_str(), W_OK) != 0) return std::string(std::strerror(errno));
  std::filesystem::path parent = std::filesystem::path(database_path).parent_path();
  const std::string folder = parent.empty() ? std::string(".") : parent.string();
  // SQLite writes its journal next to the database.
  if (::access(folder.c_str(), W_OK | X_OK) != 0) return "its folder " + folder + ": " + std::strerror(errno);
  return std::nullopt;
}

int64_t build_time_s() {
#ifdef B2BUA_BUILD_TIME
  return B2BUA_BUILD_TIME;
#else
  return 0;
#endif
}

LocalFacts LocalFactsSource::gather() {
  LocalFacts facts;
  facts.config_path = config_path_;
  facts.now_s = clock::unix_s();
  facts.built_s = build_time_s();
  std::lock_guard lock(mutex_);
  struct stat st{};
  if (::stat(config_path_.c_str(), &st) == 0) {
    facts.config_mode = static_cast<unsigned>(st.st_mode & 07777);
    FileId id{st.st_dev, st.st_ino, st.st_size, int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec};
    if (!(id == parsed_)) {
      // A file that no longer loads keeps the facts of the version the daemon runs with.
      if (auto loaded = config::load_config_file(config_path_); loaded.ok()) {
        from_config_.config_holds_secrets = config::holds_secrets(*loaded.config);
        from_config_.weak_secrets = weak_secrets(*loaded.config);
        from_config_.database_path = loaded.config->storage.path;
        from_config_.wan_address = loaded.config->wan.address;
        from_config_.wan_interface = loaded.config->wan.interface.value_or("");
      }
      parsed_ = id;
    }
  }
  facts.config_holds_secrets = from_config_.config_holds_secrets;
  facts.weak_secrets = from_config_.weak_secrets;
  facts.wan_address = from_config_.wan_address;
  facts.wan_interface = from_config_.wan_interface;
  // Asked every time: the interface's address may change while the daemon runs.
  if (!facts.wan_interface.empty()) facts.wan_interface_addresses = interface_addresses(facts.wan_interface);
  facts.route_source = route_source;
  facts.database_path = from_config_.database_path;
  if (!facts.database_path.empty()) facts.database_unwritable = database_unwritable(facts.database_path);
  return facts;
}

}  // namespace b2bua::status
