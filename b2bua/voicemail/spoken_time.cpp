#include "b2bua/voicemail/spoken_time.h"

#include <chrono>

#include "media/prompts.h"

namespace b2bua::voicemail {
namespace {

std::chrono::sys_days date_of(const std::tm& t) {
  using namespace std::chrono;
  return sys_days{year{t.tm_year + 1900} / month{static_cast<unsigned>(t.tm_mon + 1)} /
                  day{static_cast<unsigned>(t.tm_mday)}};
}

void append(std::vector<std::string>& out, std::vector<std::string> more) {
  out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

}  // namespace

std::vector<std::string> spoken_time(const std::tm& when, const std::tm& now) {
  std::vector<std::string> out{"received"};
  const auto days_ago = (date_of(now) - date_of(when)).count();
  if (days_ago == 0) {
    out.push_back("today");
  } else if (days_ago == 1) {
    out.push_back("yesterday");
  } else {
    out.push_back("month_" + std::to_string(when.tm_mon + 1));
    const int day = when.tm_mday;
    const bool composed = day > 20 && day % 10 != 0;  // "twenty" "first"
    if (composed) out.push_back("number_" + std::to_string(day / 10 * 10));
    out.push_back("day_" + std::to_string(composed ? day % 10 : day));
  }
  out.push_back("at");
  const int hour = when.tm_hour % 12 == 0 ? 12 : when.tm_hour % 12;
  append(out, media::number_words(static_cast<unsigned>(hour)));
  if (when.tm_min > 0 && when.tm_min < 10) out.push_back("oh");
  if (when.tm_min > 0) append(out, media::number_words(static_cast<unsigned>(when.tm_min)));
  out.push_back(when.tm_hour < 12 ? "am" : "pm");
  return out;
}

std::vector<std::string> spoken_time(int64_t received_ms, std::time_t now) {
  const std::time_t received = static_cast<std::time_t>(received_ms / 1000);
  std::tm when{}, today{};
  if (!::localtime_r(&received, &when) || !::localtime_r(&now, &today)) return {};
  return spoken_time(when, today);
}

}  // namespace b2bua::voicemail
