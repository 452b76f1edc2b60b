#include "b2bua/calls/extension_settings.h"

#include <charconv>
#include <ctime>
#include <optional>
#include <vector>

#include "b2bua/common/phone_number.h"

namespace b2bua::calls {
namespace {

constexpr const char* kNoAnswerAfter = "forward.no_answer_after";
constexpr const char* kDnd = "dnd";
constexpr const char* kCallWaiting = "call_waiting";

// Each forward's stored key and its member of config::Forwarding.
struct ForwardKey {
  FeatureCode::Which which;
  const char* key;
  std::optional<std::string> config::Forwarding::*member;
};
constexpr ForwardKey kForwardKeys[] = {
    {FeatureCode::always, "forward.always", &config::Forwarding::always},
    {FeatureCode::busy, "forward.busy", &config::Forwarding::busy},
    {FeatureCode::no_answer, "forward.no_answer", &config::Forwarding::no_answer},
    {FeatureCode::unregistered, "forward.unregistered", &config::Forwarding::unregistered},
};

const char* forward_key(FeatureCode::Which which) {
  for (const ForwardKey& f : kForwardKeys) {
    if (f.which == which) return f.key;
  }
  return kForwardKeys[0].key;
}

std::optional<bool> read_flag(const std::string& value) {
  if (value == "1") return true;
  if (value == "0") return false;
  return std::nullopt;
}

std::optional<int> read_seconds(const std::string& value) {
  int seconds = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (error != std::errc() || end != value.data() + value.size()) return std::nullopt;
  if (seconds < 5 || seconds > 300) return std::nullopt;
  return seconds;
}

// The config's values with the stored ones laid over; `applied` gets each key that took effect.
ExtensionSettings::Effective overlay(const config::Extension& extension,
                                     const std::map<std::string, std::string>* stored,
                                     std::vector<std::string>* applied) {
  ExtensionSettings::Effective effective{extension.forward, extension.dnd, extension.call_waiting};
  if (stored == nullptr) return effective;
  auto took = [&](const std::string& key) {
    if (applied != nullptr) applied->push_back(key);
  };
  for (const auto& [key, value] : *stored) {
    if (key == kNoAnswerAfter) {
      if (const auto seconds = read_seconds(value)) {
        effective.forward.no_answer_after = *seconds;
        took(key);
      }
    } else if (key == kDnd) {
      if (const auto on = read_flag(value)) {
        effective.dnd = *on;
        took(key);
      }
    } else if (key == kCallWaiting) {
      if (const auto on = read_flag(value)) {
        effective.call_waiting = *on;
        took(key);
      }
    } else {
      for (const ForwardKey& f : kForwardKeys) {
        if (key != f.key) continue;
        if (value.empty()) {
          effective.forward.*f.member = std::nullopt;
          took(key);
        } else if (number::is_dialable(value) && value != extension.number) {
          effective.forward.*f.member = value;
          took(key);
        }
      }
    }
  }
  return effective;
}

nlohmann::json target_json(const std::optional<std::string>& target) {
  return target ? nlohmann::json(*target) : nlohmann::json(nullptr);
}

}  // namespace

ExtensionSettings::ExtensionSettings(storage::Store* store) : store_(store) {
  if (store_ == nullptr) return;
  for (storage::ExtensionSettingRow& row : store_->extension_settings().load_all()) {
    stored_[row.extension][row.key] = std::move(row.value);
  }
}

ExtensionSettings::Effective ExtensionSettings::effective(const config::Extension& extension) const {
  const auto it = stored_.find(extension.number);
  return overlay(extension, it == stored_.end() ? nullptr : &it->second, nullptr);
}

bool ExtensionSettings::apply(const std::string& extension, const FeatureCode& code) {
  switch (code.kind) {
    case FeatureCode::forward_set:
      if (code.target == extension) return false;
      store_setting(extension, forward_key(code.which), code.target);
      if (code.which == FeatureCode::no_answer && code.seconds > 0) {
        store_setting(extension, kNoAnswerAfter, std::to_string(code.seconds));
      }
      return true;
    case FeatureCode::forward_clear:
      store_setting(extension, forward_key(code.which), "");
      return true;
    case FeatureCode::dnd:
      store_setting(extension, kDnd, code.on ? "1" : "0");
      return true;
    case FeatureCode::call_waiting:
      store_setting(extension, kCallWaiting, code.on ? "1" : "0");
      return true;
    case FeatureCode::pickup_extension:
    case FeatureCode::pickup_group:
    case FeatureCode::voicemail:
      return false;
  }
  return false;
}

void ExtensionSettings::forget(const std::string& extension) {
  const auto it = stored_.find(extension);
  if (it == stored_.end()) return;
  if (store_ != nullptr) {
    for (const auto& [key, value] : it->second) store_->extension_settings().remove(extension, key);
  }
  stored_.erase(it);
}

nlohmann::json ExtensionSettings::describe(const config::Config& config) const {
  nlohmann::json out = nlohmann::json::object();
  for (const config::Extension& extension : config.extensions) {
    const auto it = stored_.find(extension.number);
    std::vector<std::string> applied;
    const Effective e = overlay(extension, it == stored_.end() ? nullptr : &it->second, &applied);
    out[extension.number] = {
        {"forward",
         {{"always", target_json(e.forward.always)},
          {"busy", target_json(e.forward.busy)},
          {"no_answer", target_json(e.forward.no_answer)},
          {"unregistered", target_json(e.forward.unregistered)},
          {"no_answer_after", e.forward.no_answer_after}}},
        {"dnd", e.dnd},
        {"call_waiting", e.call_waiting},
        {"set_by_phone", applied},  // sorted: the map iterates keys in order
    };
  }
  return out;
}

void ExtensionSettings::store_setting(const std::string& extension, const std::string& key, const std::string& value) {
  stored_[extension][key] = value;
  if (store_ == nullptr) return;
  storage::ExtensionSettingRow row{extension, key, value, static_cast<int64_t>(std::time(nullptr))};
  store_->extension_settings().save(row);
}

}  // namespace b2bua::calls
