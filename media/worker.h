// A media worker: one thread, one libevent event_base, the sessions assigned to it and their
// sockets. Nothing outside the thread touches them: commands arrive through a WakeQueue whose
// eventfd is registered in the base, events leave through MediaEvents on this thread.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>
#include <unordered_map>
#include <variant>

#include "media/media_plane.h"
#include "media/port_pool.h"
#include "media/relay_session.h"
#include "media/wake_queue.h"

struct event_base;
struct event;

namespace b2bua::media {

using QueryDone = void (*)(void* ctx, SessionId, const std::array<LegStats, 2>&);

namespace command {
struct AddSession {
  std::unique_ptr<RelaySession> session;
};
struct SetRemote {
  SessionId id;
  int leg;
  RemoteMedia remote;
};
struct Release {
  SessionId id;
};
struct Query {
  SessionId id;
  QueryDone done;
  void* ctx;
};
struct Apply {
  RelayTuning tuning;
};
struct Stop {};
}  // namespace command

using Command = std::variant<command::AddSession, command::SetRemote, command::Release, command::Query,
                             command::Apply, command::Stop>;

class Worker {
 public:
  Worker(int index, const RelayTuning& tuning, MediaEvents& events, PortPool& pool);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  template <class C>
  void post(C&& c) {
    commands_.push(std::in_place_type<std::decay_t<C>>, std::forward<C>(c));
  }
  // Queues Stop and waits for the thread: open sessions are released first.
  void stop_and_join();

  // Called by libevent on this worker's thread.
  struct SocketRef {
    Worker* worker;
    RelaySession* session;
    int leg;
    Channel channel;
  };
  void on_readable(const SocketRef& ref);
  void on_commands();
  void on_tick();

 private:
  struct EventFree {
    void operator()(event* e) const;
  };
  struct BaseFree {
    void operator()(event_base* b) const;
  };
  using EventPtr = std::unique_ptr<event, EventFree>;
  struct Entry {
    std::unique_ptr<RelaySession> session;
    std::array<SocketRef, 4> refs;
    std::array<EventPtr, 4> events;  // leg0 rtp, leg0 rtcp, leg1 rtp, leg1 rtcp
  };

  void run();
  void handle(Command& c);
  void add(std::unique_ptr<RelaySession> session);
  void release(SessionId id);
  size_t send_batch(int fd, mmsghdr* msgs, size_t count);

  static constexpr size_t kBatch = 32;
  static constexpr size_t kMaxDatagram = 2048;  // larger than any MTU: bigger means truncated

  int index_;
  RelayTuning tuning_;
  MediaEvents& events_;
  PortPool& pool_;
  WakeQueue<Command> commands_;
  std::unique_ptr<event_base, BaseFree> base_;
  EventPtr wake_event_;
  EventPtr tick_event_;
  std::unordered_map<SessionId, std::unique_ptr<Entry>> sessions_;

  // Batch I/O state, allocated once: the packet path never allocates.
  std::array<std::array<uint8_t, kMaxDatagram>, kBatch> buffers_{};
  std::array<mmsghdr, kBatch> rx_{};
  std::array<iovec, kBatch> rx_iov_{};
  std::array<sockaddr_storage, kBatch> rx_addr_{};
  std::array<std::array<mmsghdr, kBatch>, 2> tx_{};
  std::array<std::array<iovec, kBatch>, 2> tx_iov_{};

  std::thread thread_;
};

}  // namespace b2bua::media
