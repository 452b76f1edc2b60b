// A minimal HTTP/1.0 GET over a TCP socket for `b2bua status`: one request, bounded in time,
// no redirects, no TLS (the endpoint is on loopback or a trusted LAN).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace b2bua::status {

struct HttpResponse {
  int code = 0;         // 0 when no response was read; `error` says why
  std::string body;
  std::string error;
};

// GET http://host:port/path with an optional bearer token; the whole exchange is bounded by
// `timeout`.
HttpResponse http_get(const std::string& host, uint16_t port, const std::string& path,
                      const std::optional<std::string>& bearer_token,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

}  // namespace b2bua::status
