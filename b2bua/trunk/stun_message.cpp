#include "b2bua/trunk/stun_message.h"

#include <arpa/inet.h>

#include <random>

namespace b2bua::trunk {
namespace {

constexpr uint32_t kMagicCookie = 0x2112A442;  // RFC 8489 5
constexpr uint16_t kBindingRequest = 0x0001;
constexpr uint16_t kBindingSuccess = 0x0101;
constexpr uint16_t kBindingError = 0x0111;
constexpr uint16_t kMappedAddress = 0x0001;
constexpr uint16_t kErrorCode = 0x0009;
constexpr uint16_t kXorMappedAddress = 0x0020;
constexpr uint16_t kResponsePort = 0x0027;  // RFC 5780 7.5
constexpr uint16_t kOtherAddress = 0x802C;  // RFC 5780 7.4
constexpr size_t kHeader = 20;

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v & 0xff));
}

uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t get32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) | (static_cast<uint32_t>(p[2]) << 8) |
         p[3];
}

// MAPPED-ADDRESS layout (RFC 8489 14.1); XOR-MAPPED-ADDRESS xors port and address with the
// cookie (and, for IPv6, the transaction id) (14.2).
std::optional<HostPort> address(const uint8_t* v, size_t len, bool xored, const uint8_t* header) {
  if (len < 4) return std::nullopt;
  uint8_t family = v[1];
  uint16_t port = get16(v + 2);
  uint8_t raw[16];
  size_t n = family == 0x01 ? 4 : family == 0x02 ? 16 : 0;
  if (n == 0 || len < 4 + n) return std::nullopt;
  for (size_t i = 0; i < n; ++i) raw[i] = v[4 + i];
  if (xored) {
    port ^= static_cast<uint16_t>(kMagicCookie >> 16);
    // Cookie then transaction id: bytes 4..19 of the header.
    for (size_t i = 0; i < n; ++i) raw[i] ^= header[4 + i];
  }
  char text[INET6_ADDRSTRLEN] = "";
  if (!inet_ntop(family == 0x01 ? AF_INET : AF_INET6, raw, text, sizeof text)) return std::nullopt;
  return HostPort{text, port};
}

}  // namespace

StunTransactionId new_stun_transaction() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  StunTransactionId id;
  for (auto& b : id) b = static_cast<uint8_t>(rng());
  return id;
}

std::vector<uint8_t> stun_binding_request(const StunTransactionId& id, std::optional<uint16_t> response_port) {
  std::vector<uint8_t> out;
  put16(out, kBindingRequest);
  put16(out, response_port ? 8 : 0);
  put16(out, static_cast<uint16_t>(kMagicCookie >> 16));
  put16(out, static_cast<uint16_t>(kMagicCookie & 0xffff));
  out.insert(out.end(), id.begin(), id.end());
  if (response_port) {
    // A 16-bit port padded to 4 bytes (RFC 5780 7.5).
    put16(out, kResponsePort);
    put16(out, 4);
    put16(out, *response_port);
    put16(out, 0);
  }
  return out;
}

std::optional<StunResponse> parse_stun_response(const uint8_t* data, size_t size) {
  if (size < kHeader || (data[0] & 0xc0) != 0 || get32(data + 4) != kMagicCookie) return std::nullopt;
  uint16_t type = get16(data);
  size_t length = get16(data + 2);
  if ((type != kBindingSuccess && type != kBindingError) || length % 4 != 0 || kHeader + length > size) {
    return std::nullopt;
  }
  StunResponse r;
  r.success = type == kBindingSuccess;
  std::copy(data + 8, data + kHeader, r.id.begin());
  std::optional<HostPort> plain;
  for (size_t at = kHeader; at + 4 <= kHeader + length;) {
    uint16_t attr = get16(data + at);
    size_t len = get16(data + at + 2);
    const uint8_t* v = data + at + 4;
    if (at + 4 + len > kHeader + length) return std::nullopt;
    switch (attr) {
      case kXorMappedAddress: r.mapped = address(v, len, true, data); break;
      case kMappedAddress: plain = address(v, len, false, data); break;
      case kOtherAddress: r.other = address(v, len, false, data); break;
      case kErrorCode:
        if (len >= 4) r.error_code = (v[2] & 0x07) * 100 + v[3];
        break;
      default: break;
    }
    at += 4 + (len + 3) / 4 * 4;
  }
  if (!r.mapped) r.mapped = plain;
  return r;
}

}  // namespace b2bua::trunk
