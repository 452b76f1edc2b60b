// Reads a config document value by value: each reader checks one value's type and range,
// records an error with the value's JSON path and line:column (json_positions.h), and leaves
// the default in place when the value is missing or wrong, so that one run reports every
// problem of a file.
//
// Threads: whichever thread loads a config; a Validator lives for one load.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "b2bua/config/config_loader.h"
#include "b2bua/config/json_positions.h"

namespace b2bua::config {

class Validator {
 public:
  using json = nlohmann::json;

  Validator(const JsonPositions& pos, std::vector<ConfigError>& errors) : pos_(pos), errors_(errors) {}

  void error(const std::string& path, const std::string& message, bool at_key = false);

  // An object whose keys must all be in `allowed`; false if `j` is not an object.
  bool object(const json& j, const std::string& path, std::initializer_list<std::string_view> allowed);

  // The member `key` of `obj` (at `path`), or null when absent (an error when `required`).
  const json* member(const json& obj, const std::string& path, const char* key, bool required);

  bool str(const json& obj, const std::string& path, const char* key, std::string& out, bool required = false,
           bool allow_empty = false);

  // A string or null; null and absence leave `out` empty.
  bool opt_str(const json& obj, const std::string& path, const char* key, std::optional<std::string>& out);

  template <typename Int>
  bool integer(const json& obj, const std::string& path, const char* key, Int& out, long long min, long long max,
               bool required = false) {
    const json* v = typed(obj, path, key, required, &json::is_number_integer, "an integer");
    if (!v) return false;
    long long n = v->get<long long>();
    if (n < min || n > max) {
      error(JsonPositions::member(path, key), "value " + std::to_string(n) + " out of range [" + std::to_string(min) +
                                                  ", " + std::to_string(max) + "]");
      return false;
    }
    out = static_cast<Int>(n);
    return true;
  }

  bool boolean(const json& obj, const std::string& path, const char* key, bool& out);

  // One of `choices`, as a string.
  bool choice(const json& obj, const std::string& path, const char* key, std::initializer_list<std::string_view> choices,
              std::string& out);

  // An array of strings; each element checked by `each` (which may add errors).
  template <typename Each>
  void str_array(const json& obj, const std::string& path, const char* key, bool required, Each each) {
    const json* v = typed(obj, path, key, required, &json::is_array, "an array");
    if (!v) return;
    std::string p = JsonPositions::member(path, key);
    for (size_t i = 0; i < v->size(); ++i) {
      std::string ep = JsonPositions::element(p, i);
      if (!(*v)[i].is_string()) {
        error(ep, "expected a string, found " + type_name((*v)[i]));
        continue;
      }
      each(ep, (*v)[i].get<std::string>());
    }
  }

  // An array of anything; each element handed to `each` with its path.
  template <typename Each>
  void obj_array(const json& obj, const std::string& path, const char* key, Each each) {
    const json* v = typed(obj, path, key, false, &json::is_array, "an array");
    if (!v) return;
    std::string p = JsonPositions::member(path, key);
    for (size_t i = 0; i < v->size(); ++i) each(JsonPositions::element(p, i), (*v)[i]);
  }

 private:
  // "a string", "an integer", ... for "expected X, found Y".
  static std::string type_name(const json& j);
  // The member `key` when present and of the kind `is` tests; null when absent (an error when
  // `required`) or of another kind (an error saying `what` was expected).
  const json* typed(const json& obj, const std::string& path, const char* key, bool required,
                    bool (json::*is)() const noexcept, const char* what);

  const JsonPositions& pos_;
  std::vector<ConfigError>& errors_;
};

}  // namespace b2bua::config
