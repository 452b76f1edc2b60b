#include "b2bua/status/bearer_token.h"

#include <cctype>
#include <cstddef>

namespace b2bua::status {

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Walk the configured length whatever the guess is; a length mismatch still fails.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char other = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(static_cast<unsigned char>(a[i]) ^ other);
  }
  return diff == 0;
}

bool authorized(const char* authorization, const std::optional<std::string>& token) {
  if (!token) return true;
  if (!authorization) return false;
  std::string_view value(authorization);
  // The scheme name is case-insensitive (RFC 7235 section 2.1); the token is not.
  constexpr std::string_view scheme = "bearer ";
  if (value.size() < scheme.size()) return false;
  for (size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != scheme[i]) return false;
  }
  value.remove_prefix(scheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return constant_time_equal(*token, value);
}

}  // namespace b2bua::status
