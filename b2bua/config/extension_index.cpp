#include "b2bua/config/extension_index.h"

namespace b2bua::config {

void ExtensionIndex::rebuild(Snapshot config) {
  config_ = std::move(config);
  by_number_.clear();
  by_number_.reserve(config_->extensions.size());
  // emplace keeps the first of equal numbers, as find_extension's walk finds the first.
  for (const auto& ext : config_->extensions) by_number_.emplace(ext.number, &ext);
}

const Extension* ExtensionIndex::find(std::string_view number) const {
  auto it = by_number_.find(number);
  return it == by_number_.end() ? nullptr : it->second;
}

}  // namespace b2bua::config
