// Extensions by number, for the per-request look-ups of the registrar. Config::find_extension
// walks the list: with thousands of extensions that walk cost more than the digest itself on
// every REGISTER. The index holds the snapshot it was built from, so its keys and pointers stay
// valid until the next rebuild(). SIP thread only, like the registrar that owns it.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "b2bua/config/config.h"

namespace b2bua::registrar {

class ExtensionIndex {
 public:
  explicit ExtensionIndex(config::Snapshot config) { rebuild(std::move(config)); }
  void rebuild(config::Snapshot config);
  // The extension numbered `number`, or nullptr: the same answer as Config::find_extension.
  const config::Extension* find(std::string_view number) const;

 private:
  config::Snapshot config_;
  std::unordered_map<std::string_view, const config::Extension*> by_number_;
};

}  // namespace b2bua::registrar
