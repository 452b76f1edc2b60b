#include "b2bua/common/destination_class.h"

#include "b2bua/common/phone_number.h"

namespace b2bua::number {
namespace {

using C = DestinationClass;

// Germany (Bundesnetzagentur numbering plan): mobile 015x/016x/017x; special-rate 0900
// (premium), 0137/0138 (televoting, mass calls), 0180 (service), 0190-0194 (old premium and
// online services), 0700 (personal numbers), 012 (innovative services), 118xx (directory
// enquiries). 0800 is free and stays national.
ClassTable germany() {
  return {"49",
          {{C::mobile, {"015", "016", "017"}},
           {C::international, {"00", "+"}},
           {C::premium,
            {"0900", "0137", "0138", "0180", "0190", "0191", "0192", "0193", "0194", "0700", "012", "118"}}}};
}

// No knowledge of a country: abroad is every "00" or "+", everything else national.
ClassTable generic() { return {"", {{C::international, {"00", "+"}}}}; }

bool starts_with(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

const char* class_name(DestinationClass c) {
  switch (c) {
    case C::emergency: return "emergency";
    case C::internal: return "internal";
    case C::national: return "national";
    case C::mobile: return "mobile";
    case C::international: return "international";
    case C::premium: return "premium";
  }
  return "unknown";
}

std::optional<DestinationClass> parse_class(std::string_view name) {
  for (DestinationClass c : kAllClasses) {
    if (name == class_name(c)) return c;
  }
  return std::nullopt;
}

std::string class_names(bool prefix_classes_only) {
  std::string out;
  for (DestinationClass c : kAllClasses) {
    if (!prefix_classes_only || is_prefix_class(c)) out += (out.empty() ? "" : ", ") + std::string(class_name(c));
  }
  return out;
}

std::optional<ClassTable> builtin_class_table(std::string_view country) {
  if (country == "DE") return germany();
  if (country == "generic") return generic();
  return std::nullopt;
}

bool is_prefix_class(DestinationClass c) { return c != C::emergency && c != C::internal; }

DestinationClass classify(const ClassTable& table, const std::string& number) {
  std::string n = national_form(table.country_code, number);
  DestinationClass best = C::national;
  size_t best_length = 0;
  for (const auto& [cls, prefixes] : table.prefixes) {
    for (const auto& p : prefixes) {
      if (p.size() > best_length && starts_with(n, p)) best = cls, best_length = p.size();
    }
  }
  return best;
}

}  // namespace b2bua::number
