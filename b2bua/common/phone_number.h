// One rule for "is this the same phone number": used to route inbound calls to a DID and to
// tell which trunk a provider's request names. Providers write one number in many forms:
// "+4930123456", "004930123456", "04930123456", "4930123456" (international) and "030123456"
// (national). Two numbers match when their digits are equal after dropping everything but
// digits and the leading zeros, or when one ends with the other and the common tail has at
// least 7 digits (national against international form). A bare subscriber number shorter than
// that ("123456") matches nothing but itself: too many numbers end the same way.
#pragma once

#include <string>

namespace b2bua::number {

bool same_number(const std::string& a, const std::string& b);

// What a phone may dial and the config may name as a number: an optional leading '+', then 1 to
// 32 of digits, '*' and '#' (E.164 numbers have at most 15 digits; service codes and prefixes
// add a few). Anything else (letters, '@', a 40-digit string) is refused before routing.
inline constexpr size_t kMaxDialledLength = 32;
bool is_dialable(const std::string& s);

// The user part of a number as presented to phones: digits, '*', '#' and a leading '+' only;
// "anonymous" when nothing usable is left.
std::string presentable(const std::string& raw);

// The own country's numbers (`country_code`, e.g. "49"; empty: none known) in international
// form written nationally: "+4930..." and "004930..." become "030..."; anything else as it is.
// Destination classes and block-list prefixes compare numbers in this form.
std::string national_form(const std::string& country_code, const std::string& number);

}  // namespace b2bua::number
