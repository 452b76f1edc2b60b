// The status endpoint's access check: `Authorization: Bearer <token>` (RFC 6750 section 2.1).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace b2bua::status {

// True when no token is configured, or when `authorization` (the header value, null if absent)
// carries exactly the configured token. The comparison takes the same time wherever the first
// difference is, so response timing does not reveal how much of a guess was right.
bool authorized(const char* authorization, const std::optional<std::string>& token);

// Equal length and content, in time that depends only on the lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace b2bua::status
