#include "b2bua/calls/block_list.h"

#include <algorithm>

#include "b2bua/common/phone_number.h"

namespace b2bua::calls {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// How a phone of `country_code` dials `number` (presentable: digits, '*', '#', a leading '+'):
// "+4930..." and "004930..." as "030..." (number::national_form), "+44..." as "0044...".
// Providers send either form and an admin writes either, so both sides of a prefix comparison
// are brought here first.
std::string dialled_form(const std::string& country_code, const std::string& number) {
  std::string n = number::national_form(country_code, number);
  return starts_with(n, "+") ? "00" + n.substr(1) : n;
}

// What a caller presents when it presents a number: "anonymous" (presentable's word for
// nothing usable), "unavailable" or a string of '*' and '#' is no number.
bool presents_number(const std::string& presentable) {
  return std::any_of(presentable.begin(), presentable.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<BlockVerdict> verdict(const config::BlockList& list, const char* reason) {
  // The config accepts 603 and 486 only; anything else would be a refusal the caller must
  // not mistake for a busy line, so it is the decline.
  if (list.answer == 486) return BlockVerdict{486, "Busy Here", reason};
  return BlockVerdict{603, "Decline", reason};
}

struct Reasons {
  const char* number;
  const char* prefix;
  const char* anonymous;
};

std::optional<BlockVerdict> check(const config::BlockList& list, const Reasons& reasons, const std::string& country,
                                  const std::string& caller, bool anonymous) {
  if (anonymous) return list.anonymous ? verdict(list, reasons.anonymous) : std::nullopt;
  for (const auto& n : list.numbers) {
    if (number::same_number(n, caller)) return verdict(list, reasons.number);
  }
  std::string national = dialled_form(country, caller);
  for (const auto& p : list.prefixes) {
    std::string prefix = dialled_form(country, number::presentable(p));
    // An empty prefix would refuse every caller: a slip in the config, not a rule.
    if (presents_number(prefix) && starts_with(national, prefix)) return verdict(list, reasons.prefix);
  }
  return std::nullopt;
}

}  // namespace

std::optional<BlockVerdict> blocked_caller(const config::Config& config, const config::InboundRoute& route,
                                           const std::string& caller_number, bool anonymous) {
  std::string caller = number::presentable(caller_number);
  anonymous = anonymous || !presents_number(caller);
  const std::string& country = config.routing.classes.country_code;
  if (auto v = check(route.block, {"did_number", "did_prefix", "did_anonymous"}, country, caller, anonymous)) return v;
  return check(config.routing.block, {"global_number", "global_prefix", "global_anonymous"}, country, caller,
               anonymous);
}

}  // namespace b2bua::calls
