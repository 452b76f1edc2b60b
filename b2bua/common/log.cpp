#include "b2bua/common/log.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace b2bua::log {
namespace {

// The one process-wide logging state: stderr is a process-wide resource, so is its threshold.
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::mutex g_write_mutex;

const char* name(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

// journald turns a leading "<N>" into the syslog priority when stderr is the journal.
int syslog_priority(Level level) {
  switch (level) {
    case Level::debug: return 7;
    case Level::info: return 6;
    case Level::warn: return 4;
    case Level::error: return 3;
  }
  return 6;
}

bool is_control(char c) {
  auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// Values come from the network (User-Agent, display names, phrases): a control character must
// never reach the terminal or the journal raw (escape sequences, a forged second log line).
void append_value(std::string& out, std::string_view v) {
  bool plain = !v.empty() && v.find_first_of(" \"=\\") == std::string_view::npos &&
               std::none_of(v.begin(), v.end(), is_control);
  if (plain) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (is_control(c)) {
          static constexpr char kHex[] = "0123456789abcdef";
          auto u = static_cast<unsigned char>(c);
          out += "\\x";
          out += kHex[u >> 4];
          out += kHex[u & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

bool stderr_is_journal() {
  static const bool journal = getenv("JOURNAL_STREAM") != nullptr;
  return journal;
}

}  // namespace

void set_level(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }

bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

std::string format(Level level, std::string_view component, std::string_view event,
                   std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(128);
  line += "level=";
  line += name(level);
  line += " component=";
  line += component;
  line += " event=";
  line += event;
  for (const Field& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    append_value(line, f.value);
  }
  return line;
}

void write(Level level, std::string_view component, std::string_view event, std::initializer_list<Field> fields) {
  std::string line;
  if (stderr_is_journal()) {
    // journald stamps the time itself; the prefix carries the priority for filtering.
    line = "<" + std::to_string(syslog_priority(level)) + ">";
  } else {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[96];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    line = stamp;
  }
  line += format(level, component, event, fields);
  line += '\n';
  std::lock_guard<std::mutex> lock(g_write_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace b2bua::log
