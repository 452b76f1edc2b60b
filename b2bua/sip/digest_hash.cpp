#include "b2bua/sip/digest_hash.h"

#include <sofia-sip/su_md5.h>

#include "b2bua/sip/sha256.h"

namespace b2bua::sip {

std::string md5_hex(std::string_view text) {
  su_md5_t ctx;
  su_md5_init(&ctx);
  su_md5_update(&ctx, text.data(), text.size());
  char hex[33];
  su_md5_hexdigest(&ctx, hex);
  return std::string(hex, 32);
}

std::string sha256_hex(std::string_view text) { return to_hex(sha256(text)); }

std::string unquote(std::string_view v) {
  if (v.size() < 2 || v.front() != '"' || v.back() != '"') return std::string(v);
  std::string out;
  for (size_t i = 1; i + 1 < v.size(); ++i) {
    if (v[i] == '\\' && i + 2 < v.size()) ++i;
    out += v[i];
  }
  return out;
}

}  // namespace b2bua::sip
