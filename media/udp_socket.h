// RAII UDP socket bound to one local address:port, non-blocking, DSCP-marked.
#pragma once

#include <cstdint>
#include <string>

#include "media/media_plane.h"

namespace b2bua::media {

class UdpSocket {
 public:
  UdpSocket() = default;
  explicit UdpSocket(int fd) : fd_(fd) {}
  ~UdpSocket() { reset(); }
  UdpSocket(UdpSocket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  UdpSocket& operator=(UdpSocket&& other) noexcept;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  // Binds ip:port. `dscp` < 0 leaves the traffic class alone. On failure returns an invalid
  // socket and sets `error` (errno text).
  static UdpSocket bind(const std::string& ip, uint16_t port, int dscp, std::string& error);

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

}  // namespace b2bua::media
