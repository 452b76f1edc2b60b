// What a number costs the owner, roughly: the destination class an extension's allow list
// (extensions[].allow) is checked against. Toll fraud through a home router calls premium-rate
// and international numbers with guessed credentials; a class lets the admin refuse those for
// every phone that has no business calling them.
//
// emergency and internal are not prefix classes: emergency numbers are routing.emergency,
// internal ones are the extensions. The other four come from a per-country table of prefixes
// (built in, routing.country) that routing.classes may override.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b2bua::number {

enum class DestinationClass { emergency, internal, national, mobile, international, premium };

inline constexpr std::array kAllClasses = {DestinationClass::emergency, DestinationClass::internal,
                                           DestinationClass::national,  DestinationClass::mobile,
                                           DestinationClass::international, DestinationClass::premium};

const char* class_name(DestinationClass c);
std::optional<DestinationClass> parse_class(std::string_view name);
// True for the classes a prefix may define (national, mobile, international, premium).
bool is_prefix_class(DestinationClass c);
// "emergency, internal, national, mobile, international, premium" (only the prefix classes
// with `prefix_classes_only`): for error messages.
std::string class_names(bool prefix_classes_only = false);

// The prefixes that make a number mobile, international or premium (or force it national) in
// one country. Prefixes are written as the number reaches the trunk: the national form for the
// own country ("0900", "015"), "00"/"+" for abroad. A number is national unless a prefix says
// otherwise; the longest matching prefix decides.
struct ClassTable {
  // "49": "+49..." and "0049..." are numbers of this country and are classed in their national
  // form ("0..."). Empty: no own country (the generic table), so every "+" or "00" is abroad.
  std::string country_code;
  std::map<DestinationClass, std::vector<std::string>> prefixes;
  bool operator==(const ClassTable&) const = default;
};

// The built-in table for `country` ("DE", "generic"); nullopt for a country without one.
std::optional<ClassTable> builtin_class_table(std::string_view country);
inline constexpr std::array<std::string_view, 2> kBuiltinCountries = {"DE", "generic"};

// The class of `number` (a number as it is sent to a trunk) under `table`: never emergency or
// internal, which the caller decides from routing.emergency and the extensions.
DestinationClass classify(const ClassTable& table, const std::string& number);

}  // namespace b2bua::number
