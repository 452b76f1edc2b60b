// Feature codes: what a phone dials to change its own call settings or to pick up a call ringing
// elsewhere. The codes are the German / ETSI GSM ones (GSM 02.30 supplementary services: '*'
// switches on or registers, '#' switches off, the code ends with '#'), so a user who knows them
// from a mobile phone or a Fritz!Box knows them here. The one table:
//
//   Dialled                      Meaning                                       FeatureCode
//   *21*NUMBER#                  forward every call to NUMBER (CFU)            forward_set   always
//   #21#                         ... off                                       forward_clear always
//   *67*NUMBER#                  forward when busy (CFB)                       forward_set   busy
//   #67#                         ... off                                       forward_clear busy
//   *61*NUMBER#                  forward on no answer (CFNR)                   forward_set   no_answer
//   *61*NUMBER*SECONDS#          ... after SECONDS (5..300)                    seconds = SECONDS
//   *61*NUMBER**SECONDS#         ... the same, GSM's spelling (empty service group)
//   #61#                         ... off                                       forward_clear no_answer
//   *62*NUMBER#                  forward when no phone is registered (CFNL)    forward_set   unregistered
//   #62#                         ... off                                       forward_clear unregistered
//   *26#                         do-not-disturb on                             dnd           on = true
//   #26#                         do-not-disturb off                            dnd           on = false
//   *43#                         call waiting on                               call_waiting  on = true
//   #43#                         call waiting off                              call_waiting  on = false
//   **EXT                        pick up the call ringing extension EXT        pickup_extension target = EXT
//   *8#  or  *8                  pick up a call ringing in my ring group       pickup_group
//   *97  or  *97#                listen to my messages (voicemail menu)        voicemail     target = ""
//   *97*EXT#                     ... to the mailbox of EXT (asks its PIN)      voicemail     target = EXT
//
// NUMBER is an extension or an external number: an optional leading '+' and digits only ('*'
// and '#' delimit the code), at most number::kMaxDialledLength digits. EXT is digits only.
//
// Strict on purpose: a code without its closing '#' ("*21*11") is no code, nor is anything not
// in the table ("*21#", "##21#", "*26*1#"). Only the pickups and the voicemail code take no
// '#': they are the spellings of Asterisk-style PBXs ("*8" group pickup, "**EXT" directed
// pickup, "*97" own mailbox), which phones' busy-lamp and message keys dial as they are.
//
// Pure functions: no config, no state; what a code does to an extension is extension_settings.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace b2bua::calls {

struct FeatureCode {
  enum Kind { forward_set, forward_clear, dnd, call_waiting, pickup_extension, pickup_group, voicemail };
  // Which forward a forward_set / forward_clear is about (config::Forwarding's members).
  enum Which { always, busy, no_answer, unregistered };

  Kind kind = forward_set;
  Which which = always;   // forward_set and forward_clear only
  std::string target;     // forward_set: NUMBER; pickup_extension, voicemail: EXT; else ""
  int seconds = 0;        // forward_set no_answer: ring this long first; 0 = leave as it is
  bool on = false;        // dnd and call_waiting: switched on (true) or off
  bool operator==(const FeatureCode&) const = default;
};

// `dialled` is the Request-URI user already percent-decoded (see unescape_user()). nullopt when
// it is no code of the table above.
std::optional<FeatureCode> parse_feature_code(std::string_view dialled);

// True for anything starting with '*' or '#': such a call is answered here (404 when
// parse_feature_code() knows no such code), never sent to a trunk, where a provider might run
// its own service code or bill it.
bool looks_like_feature_code(std::string_view dialled);

// The user part of a SIP URI with its %XX escapes decoded (RFC 3261 section 19.1.2: '#' is not
// allowed unescaped in a user part, so phones send "*21*11%23"). Hex digits in either case; a
// '%' not followed by two hex digits is kept as it is, which no code or number accepts.
std::string unescape_user(std::string_view user);

// For logs and test output, e.g. "forward_set no_answer 0301234567 after 30s", "dnd on".
std::string to_string(const FeatureCode& code);
const char* to_string(FeatureCode::Which which);  // "always" | "busy" | "no_answer" | "unregistered"

}  // namespace b2bua::calls
