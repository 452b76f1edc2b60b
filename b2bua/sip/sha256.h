// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for RFC 8760 digest responses and for
// signing our nonces. Small and local because sofia-sip 1.12 ships MD5 only and the product
// takes no crypto library for two hash calls per REGISTER.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace b2bua::sip {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  Sha256Digest finish();

 private:
  void block(const uint8_t* p);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

Sha256Digest sha256(std::string_view data);

// HMAC-SHA256 with its key absorbed once: the two padded key blocks are hashed when the key is
// set, so each message then costs two compression blocks fewer than a keyed-from-scratch HMAC
// (half the work for a nonce). For a key that signs every request, like our nonce secret.
class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);
  Sha256Digest sign(std::string_view message) const;

 private:
  Sha256 inner_, outer_;
};

std::string to_hex(const uint8_t* data, size_t size);
template <size_t N>
std::string to_hex(const std::array<uint8_t, N>& bytes) {
  return to_hex(bytes.data(), bytes.size());
}

}  // namespace b2bua::sip
