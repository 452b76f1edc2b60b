// One line per event, key=value, for admins who grep and for journald.
//
//   B2BUA_LOG(info, "registrar", "binding_added", {{"ext", "10"}, {"contact", uri}});
//   -> level=info component=registrar event=binding_added ext=10 contact=sip:10@192.168.1.20:5060
//
// Values with spaces, quotes or '=' are quoted. Never pass a password, HA1, nonce or digest
// response as a value. The macro skips building the fields when the level is filtered out.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

namespace b2bua::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

struct Field {
  std::string_view key;
  std::string value;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v ? v : "") {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  template <typename Number, typename = std::enable_if_t<std::is_arithmetic_v<Number>>>
  Field(std::string_view k, Number v) : key(k), value(std::to_string(v)) {}
};

// The threshold is process-wide (the one logging sink is stderr); set from log.level on start
// and on every reload.
void set_level(Level level);
bool enabled(Level level);
void write(Level level, std::string_view component, std::string_view event, std::initializer_list<Field> fields);
// The line write() would print, without the timestamp (for tests).
std::string format(Level level, std::string_view component, std::string_view event,
                   std::initializer_list<Field> fields);

}  // namespace b2bua::log

#define B2BUA_LOG(level, component, event, ...)                                             \
  do {                                                                                      \
    if (::b2bua::log::enabled(::b2bua::log::Level::level))                                 \
      ::b2bua::log::write(::b2bua::log::Level::level, component, event, __VA_ARGS__);       \
  } while (0)
