// libFuzzer target for the SDP reader/rewriter: any byte string either is an SdpError or yields
// an SDP that reads back; inspect and rewrite agree on what is acceptable.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "media/sdp_rewrite.h"

using namespace b2bua::media;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto streams = inspect_sdp(in);
  SdpOrigin origin;
  const std::vector<std::optional<LegPorts>> ports = {LegPorts{"192.0.2.1", 20000, 20001}, std::nullopt,
                                                      LegPorts{"2001:db8::1", 20002, 20003}};
  const auto out = rewrite_sdp(in, ports, origin);
  if (std::holds_alternative<SdpError>(streams) != std::holds_alternative<SdpError>(out)) std::abort();
  if (const auto* body = std::get_if<std::string>(&out)) {
    const auto again = inspect_sdp(*body);
    if (std::holds_alternative<SdpError>(again)) std::abort();
    // Rewriting twice with the same ports is stable (same version, same text).
    const auto twice = rewrite_sdp(in, ports, origin);
    if (std::get<std::string>(twice) != *body) std::abort();
  }
  return 0;
}
