#include "b2bua/config/validator.h"

#include <algorithm>
#include <cstdint>

namespace b2bua::config {
namespace {

// Edit distance, for "did you mean" on unknown keys.
size_t distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string Validator::type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "an unknown type";
  }
}

void Validator::error(const std::string& path, const std::string& message, bool at_key) {
  TextPosition p = at_key ? pos_.key(path) : pos_.value(path);
  errors_.push_back({path, p.line, p.column, message});
}

bool Validator::object(const json& j, const std::string& path, std::initializer_list<std::string_view> allowed) {
  if (!j.is_object()) {
    error(path, "expected an object, found " + type_name(j));
    return false;
  }
  for (const auto& [key, value] : j.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string message = "unknown key '" + key + "'";
    std::string_view best;
    size_t best_d = SIZE_MAX;
    for (std::string_view candidate : allowed) {
      size_t d = distance(key, candidate);
      if (d < best_d) best_d = d, best = candidate;
    }
    if (!best.empty() && best_d <= std::max<size_t>(2, key.size() / 3)) {
      message += "; did you mean '" + std::string(best) + "'?";
    }
    error(JsonPositions::member(path, key), message, true);
  }
  return true;
}

const Validator::json* Validator::member(const json& obj, const std::string& path, const char* key, bool required) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) error(path, std::string("missing required key '") + key + "'");
    return nullptr;
  }
  return &*it;
}

const Validator::json* Validator::typed(const json& obj, const std::string& path, const char* key, bool required,
                                        bool (json::*is)() const noexcept, const char* what) {
  const json* v = member(obj, path, key, required);
  if (!v) return nullptr;
  if (!(v->*is)()) {
    error(JsonPositions::member(path, key), std::string("expected ") + what + ", found " + type_name(*v));
    return nullptr;
  }
  return v;
}

bool Validator::str(const json& obj, const std::string& path, const char* key, std::string& out, bool required,
                    bool allow_empty) {
  const json* v = typed(obj, path, key, required, &json::is_string, "a string");
  if (!v) return false;
  out = v->get<std::string>();
  if (out.empty() && !allow_empty) {
    error(JsonPositions::member(path, key), "must not be empty");
    return false;
  }
  return true;
}

bool Validator::opt_str(const json& obj, const std::string& path, const char* key, std::optional<std::string>& out) {
  const json* v = member(obj, path, key, false);
  if (!v || v->is_null()) return false;
  std::string s;
  if (!str(obj, path, key, s)) return false;
  out = s;
  return true;
}

bool Validator::boolean(const json& obj, const std::string& path, const char* key, bool& out) {
  const json* v = typed(obj, path, key, false, &json::is_boolean, "true or false");
  if (!v) return false;
  out = v->get<bool>();
  return true;
}

bool Validator::choice(const json& obj, const std::string& path, const char* key,
                       std::initializer_list<std::string_view> choices, std::string& out) {
  std::string s;
  if (!str(obj, path, key, s)) return false;
  if (std::find(choices.begin(), choices.end(), s) == choices.end()) {
    std::string list;
    for (std::string_view c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
    error(JsonPositions::member(path, key), "'" + s + "' is not one of: " + list);
    return false;
  }
  out = s;
  return true;
}

}  // namespace b2bua::config
