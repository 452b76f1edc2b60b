// Inbound callers refused before anything rings (routing.block and routing.inbound[].block):
// a nuisance caller, a range of numbers (a premium or foreign prefix) or everyone who withholds
// the number. Pure: the admission code asks, and answers the provider with the verdict.
#pragma once

#include <optional>
#include <string>

#include "b2bua/config/config.h"

namespace b2bua::calls {

struct BlockVerdict {
  int answer;          // 603 or 486: the final answer the provider gets
  const char* phrase;  // "Decline" or "Busy Here"
  // Which list and rule matched, for the call record, the log and the metric label:
  // global_number, global_prefix, global_anonymous, did_number, did_prefix, did_anonymous.
  const char* reason;
};

// nullopt when `caller_number` may ring `route`. A number is anonymous when the caller withholds
// it (`anonymous`) or presents nothing with a digit in it ("anonymous", "unavailable", "").
// Numbers of a list match under number::same_number (+49301234567, 0049301234567 and
// 0301234567 are one number); a prefix matches the start of the caller's number, both brought
// to the national form of routing.country ("+4930..." and "004930..." are "030...", other
// international numbers are written "00..."). The DID's own list is asked first: the more
// specific rule names the answer when both lists refuse a caller.
std::optional<BlockVerdict> blocked_caller(const config::Config& config, const config::InboundRoute& route,
                                           const std::string& caller_number, bool anonymous);

}  // namespace b2bua::calls
