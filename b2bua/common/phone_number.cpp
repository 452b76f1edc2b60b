#include "b2bua/common/phone_number.h"

#include <string_view>

namespace b2bua::number {
namespace {

constexpr size_t kMinTailDigits = 7;

std::string significant_digits(const std::string& n) {
  std::string d;
  for (char c : n) {
    if (c >= '0' && c <= '9') d += c;
  }
  size_t first = d.find_first_not_of('0');
  return first == std::string::npos ? std::string() : d.substr(first);
}

}  // namespace

bool same_number(const std::string& a, const std::string& b) {
  std::string x = significant_digits(a), y = significant_digits(b);
  if (x.empty() || y.empty()) return false;
  if (x == y) return true;
  const std::string& shorter = x.size() < y.size() ? x : y;
  const std::string& longer = x.size() < y.size() ? y : x;
  return shorter.size() >= kMinTailDigits &&
         longer.compare(longer.size() - shorter.size(), shorter.size(), shorter) == 0;
}

bool is_dialable(const std::string& s) {
  size_t start = !s.empty() && s[0] == '+' ? 1 : 0;
  if (s.size() == start || s.size() - start > kMaxDialledLength) return false;
  for (size_t i = start; i < s.size(); ++i) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || c == '*' || c == '#')) return false;
  }
  return true;
}

std::string presentable(const std::string& raw) {
  std::string out;
  for (char c : raw) {
    if ((c >= '0' && c <= '9') || c == '*' || c == '#' || (c == '+' && out.empty())) out += c;
  }
  return out.empty() || out == "+" ? "anonymous" : out;
}

std::string national_form(const std::string& country_code, const std::string& number) {
  if (country_code.empty()) return number;
  for (std::string_view lead : {"+", "00"}) {
    std::string own = std::string(lead) + country_code;
    if (number.compare(0, own.size(), own) == 0) return "0" + number.substr(own.size());
  }
  return number;
}

}  // namespace b2bua::number
