#include "b2bua/status/snapshot_reader.h"

#include <ctime>

namespace b2bua::status {

using nlohmann::json;

std::string printable(std::string s) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return s;
}

std::string text(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  return printable(it->is_string() ? it->get<std::string>() : it->dump(-1, ' ', false, json::error_handler_t::replace));
}

int64_t number(const json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
}

const json& list(const json& j, const char* key) {
  static const json empty = json::array();
  if (!j.is_object()) return empty;
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : empty;
}

std::string time_text(int64_t unix_s, bool utc) {
  if (unix_s <= 0) return "";
  time_t t = static_cast<time_t>(unix_s);
  tm parts{};
  char buf[64];
  if (utc) {
    gmtime_r(&t, &parts);
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &parts);
  } else {
    localtime_r(&t, &parts);
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &parts);
  }
  return buf;
}

}  // namespace b2bua::status
