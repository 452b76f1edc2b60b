// Extensions by number, for look-ups on every request (the registrar's per REGISTER, message
// waiting's per new binding). Config::find_extension walks the list: with thousands of
// extensions that walk cost more than the digest itself on every REGISTER. The index holds the
// snapshot it was built from, so its keys and pointers stay valid until the next rebuild().
// Not thread-safe: each owner keeps its own, on its own thread (the SIP thread for both today).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "b2bua/config/config.h"

namespace b2bua::config {

class ExtensionIndex {
 public:
  explicit ExtensionIndex(Snapshot config) { rebuild(std::move(config)); }
  void rebuild(Snapshot config);
  // The extension numbered `number`, or nullptr: the same answer as Config::find_extension.
  const Extension* find(std::string_view number) const;
  // The snapshot the index was built from.
  const Config& config() const { return *config_; }

 private:
  Snapshot config_;
  std::unordered_map<std::string_view, const Extension*> by_number_;
};

}  // namespace b2bua::config
