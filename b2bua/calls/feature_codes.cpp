#include "b2bua/calls/feature_codes.h"

#include <charconv>
#include <vector>

#include "b2bua/common/phone_number.h"

namespace b2bua::calls {
namespace {

// Longer than any code of the table can be ("*61*" + '+' + 32 digits + "**300#"): anything
// longer is refused before it is looked at.
constexpr size_t kMaxCodeLength = 48;

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// An extension or an external number: optional '+', then digits only.
bool is_forward_target(std::string_view s) {
  const std::string_view digits = !s.empty() && s.front() == '+' ? s.substr(1) : s;
  return all_digits(digits) && digits.size() <= number::kMaxDialledLength;
}

std::optional<int> parse_seconds(std::string_view s) {
  if (!all_digits(s) || s.size() > 3) return std::nullopt;
  int value = 0;
  std::from_chars(s.data(), s.data() + s.size(), value);
  // The same bounds as extensions[].forward.no_answer_after: shorter and the phone never gets
  // a chance to ring, longer and the caller or the provider gives up first.
  if (value < 5 || value > 300) return std::nullopt;
  return value;
}

std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const size_t at = s.find(separator);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

std::optional<FeatureCode::Which> forward_of(std::string_view service) {
  if (service == "21") return FeatureCode::always;
  if (service == "67") return FeatureCode::busy;
  if (service == "61") return FeatureCode::no_answer;
  if (service == "62") return FeatureCode::unregistered;
  return std::nullopt;
}

// "26" and "43": the services with only on and off.
std::optional<FeatureCode::Kind> switch_of(std::string_view service) {
  if (service == "26") return FeatureCode::dnd;
  if (service == "43") return FeatureCode::call_waiting;
  return std::nullopt;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<FeatureCode> parse_feature_code(std::string_view dialled) {
  if (dialled.size() < 2 || dialled.size() > kMaxCodeLength) return std::nullopt;

  if (dialled.starts_with("**")) {
    const std::string_view extension = dialled.substr(2);
    if (!all_digits(extension) || extension.size() > number::kMaxDialledLength) return std::nullopt;
    FeatureCode code;
    code.kind = FeatureCode::pickup_extension;
    code.target = std::string(extension);
    return code;
  }
  if (dialled == "*97" || dialled == "*97#") {
    FeatureCode code;
    code.kind = FeatureCode::voicemail;
    return code;
  }
  if (dialled == "*8" || dialled == "*8#") {
    FeatureCode code;
    code.kind = FeatureCode::pickup_group;
    return code;
  }

  if (!dialled.ends_with('#')) return std::nullopt;
  const char action = dialled.front();
  const std::string_view body = dialled.substr(1, dialled.size() - 2);  // between the action and '#'

  if (action == '#') {
    // Switching off names the service only: "#21#".
    FeatureCode code;
    if (const auto which = forward_of(body)) {
      code.kind = FeatureCode::forward_clear;
      code.which = *which;
      return code;
    }
    if (const auto kind = switch_of(body)) {
      code.kind = *kind;
      code.on = false;
      return code;
    }
    return std::nullopt;
  }
  if (action != '*') return std::nullopt;

  const std::vector<std::string_view> fields = split(body, '*');
  FeatureCode code;
  if (fields[0] == "97") {
    if (fields.size() != 2 || !all_digits(fields[1]) || fields[1].size() > number::kMaxDialledLength) return std::nullopt;
    code.kind = FeatureCode::voicemail;
    code.target = std::string(fields[1]);
    return code;
  }
  if (const auto kind = switch_of(fields[0])) {
    if (fields.size() != 1) return std::nullopt;
    code.kind = *kind;
    code.on = true;
    return code;
  }
  const auto which = forward_of(fields[0]);
  if (!which || fields.size() < 2 || !is_forward_target(fields[1])) return std::nullopt;
  code.kind = FeatureCode::forward_set;
  code.which = *which;
  code.target = std::string(fields[1]);
  if (fields.size() == 2) return code;
  if (*which != FeatureCode::no_answer) return std::nullopt;
  // *61*NUMBER*SECONDS# or GSM's *61*NUMBER*BASIC_SERVICE*SECONDS# with the service left empty.
  std::optional<int> seconds;
  if (fields.size() == 3) {
    seconds = parse_seconds(fields[2]);
  } else if (fields.size() == 4 && fields[2].empty()) {
    seconds = parse_seconds(fields[3]);
  }
  if (!seconds) return std::nullopt;
  code.seconds = *seconds;
  return code;
}

bool looks_like_feature_code(std::string_view dialled) {
  return !dialled.empty() && (dialled.front() == '*' || dialled.front() == '#');
}

std::string unescape_user(std::string_view user) {
  std::string out;
  out.reserve(user.size());
  for (size_t i = 0; i < user.size(); ++i) {
    if (user[i] == '%' && i + 2 < user.size() && hex_value(user[i + 1]) >= 0 && hex_value(user[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(user[i + 1]) * 16 + hex_value(user[i + 2]));
      i += 2;
    } else {
      out += user[i];
    }
  }
  return out;
}

const char* to_string(FeatureCode::Which which) {
  switch (which) {
    case FeatureCode::always: return "always";
    case FeatureCode::busy: return "busy";
    case FeatureCode::no_answer: return "no_answer";
    case FeatureCode::unregistered: return "unregistered";
  }
  return "?";
}

std::string to_string(const FeatureCode& code) {
  switch (code.kind) {
    case FeatureCode::forward_set: {
      std::string text = std::string("forward_set ") + to_string(code.which) + " " + code.target;
      if (code.seconds > 0) text += " after " + std::to_string(code.seconds) + "s";
      return text;
    }
    case FeatureCode::forward_clear: return std::string("forward_clear ") + to_string(code.which);
    case FeatureCode::dnd: return code.on ? "dnd on" : "dnd off";
    case FeatureCode::call_waiting: return code.on ? "call_waiting on" : "call_waiting off";
    case FeatureCode::pickup_extension: return "pickup_extension " + code.target;
    case FeatureCode::pickup_group: return "pickup_group";
    case FeatureCode::voicemail: return code.target.empty() ? "voicemail" : "voicemail " + code.target;
  }
  return "?";
}

}  // namespace b2bua::calls
