// The hashes of HTTP digest authentication (RFC 2617, RFC 8760), shared by the registrar (which
// verifies phones) and the trunks (which answer providers' challenges).
#pragma once

#include <string>
#include <string_view>

namespace b2bua::sip {

// Lowercase hex MD5 (sofia's su_md5) and SHA-256 (sha256.h) of `text`.
std::string md5_hex(std::string_view text);
std::string sha256_hex(std::string_view text);

// A digest parameter value without its quotes and backslash escapes (RFC 2617 quoted-string).
std::string unquote(std::string_view value);

}  // namespace b2bua::sip
