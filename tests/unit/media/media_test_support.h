// Shared by the media plane tests: an event sink that hands events to the test's own thread
// (as the daemon hands them to the SIP thread), and loopback UDP peers.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "media/media_plane.h"
#include "media/udp_socket.h"
#include "media/wake_queue.h"

namespace b2bua::media::test {

struct MediaEvent {
  enum Kind { latched, timeout, released, one_way, voice } kind;
  SessionId id = 0;
  int leg = -1;
  Endpoint peer;
  std::array<LegStats, 2> stats{};
  VoiceEvent voice_event{};  // voice
};

class QueuedEvents : public MediaEvents {
 public:
  void on_latched(SessionId id, int leg, const Endpoint& peer) override {
    queue.push(MediaEvent{MediaEvent::latched, id, leg, peer, {}, {}});
  }
  void on_media_timeout(SessionId id) override { queue.push(MediaEvent{MediaEvent::timeout, id, -1, {}, {}, {}}); }
  void on_released(SessionId id, const std::array<LegStats, 2>& stats) override {
    queue.push(MediaEvent{MediaEvent::released, id, -1, {}, stats, {}});
  }
  void on_one_way_audio(SessionId id, int silent, const std::array<LegStats, 2>& stats) override {
    queue.push(MediaEvent{MediaEvent::one_way, id, silent, {}, stats, {}});
  }
  void on_voice(SessionId id, VoiceEvent event) override {
    queue.push(MediaEvent{MediaEvent::voice, id, -1, {}, {}, std::move(event)});
  }

  // Waits (on the caller's thread) until an event satisfies `match`; events seen are kept.
  bool wait_for(const std::function<bool(const MediaEvent&)>& match, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      for (const auto& e : seen) {
        if (match(e)) return true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{queue.fd(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) > 0) {
        queue.drain([this](MediaEvent& e) { seen.push_back(e); });
      }
    }
  }

  WakeQueue<MediaEvent> queue;
  std::vector<MediaEvent> seen;
};

// A UDP peer on 127.0.0.1 (ephemeral port) that sends to and reads from a relay port.
class Peer {
 public:
  Peer() {
    std::string error;
    socket_ = UdpSocket::bind("127.0.0.1", 0, -1, error);
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    getsockname(socket_.fd(), reinterpret_cast<sockaddr*>(&a), &len);
    address_.addr = a;
    address_.len = len;
  }
  const Endpoint& address() const { return address_; }
  void send_to(const Endpoint& to, const std::vector<uint8_t>& data) const {
    ::sendto(socket_.fd(), data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&to.addr), to.len);
  }
  // One datagram within `limit_ms`, or an empty vector.
  std::vector<uint8_t> receive(int limit_ms, Endpoint* from = nullptr) const {
    pollfd p{socket_.fd(), POLLIN, 0};
    if (::poll(&p, 1, limit_ms) <= 0) return {};
    std::vector<uint8_t> buf(2048);
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    const ssize_t n = ::recvfrom(socket_.fd(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&a), &len);
    if (n < 0) return {};
    buf.resize(static_cast<size_t>(n));
    if (from) {
      from->addr = a;
      from->len = len;
    }
    return buf;
  }
  // Reads datagrams until `expected` arrived or `limit_ms` passes with none; RTP keep-alives
  // (payload type 20) are skipped.
  size_t count_media(int limit_ms, size_t expected = SIZE_MAX) const {
    size_t n = 0;
    while (n < expected) {
      auto d = receive(limit_ms);
      if (d.empty()) return n;
      if (d.size() >= 2 && (d[1] & 0x7f) == 20) continue;
      ++n;
    }
    return n;
  }

 private:
  UdpSocket socket_;
  Endpoint address_;
};

inline RemoteMedia remote_of(const Peer& p) {
  RemoteMedia r;
  r.rtp = p.address();
  return r;
}

inline Endpoint relay_rtp(const LegPorts& leg) {
  Endpoint e;
  Endpoint::parse(leg.ip, leg.rtp_port, e);
  return e;
}

}  // namespace b2bua::media::test
