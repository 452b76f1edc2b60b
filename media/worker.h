// A media worker: one thread, one libevent event_base, the sessions assigned to it and their
// sockets. Nothing outside the thread touches them: commands arrive through a WakeQueue whose
// eventfd is registered in the base, events leave through MediaEvents on this thread. The one
// exception is its part of the relay totals, which any thread may read (add_totals_to()).
//
// Voice sessions (voice_session.h) live here too. Their prompts are paced by a timer of their
// own, armed for the exact time the next packet of any voice session is due (the 100 ms tick
// is far too coarse for 20 ms packets); each wake-up sends every packet due by then.
#pragma once

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>
#include <unordered_map>
#include <variant>
#include <vector>

#include "media/media_plane.h"
#include "media/port_pool.h"
#include "media/relay_session.h"
#include "media/voice_session.h"
#include "media/wake_queue.h"

struct event_base;
struct event;

namespace b2bua::media {

using QueryDone = void (*)(void* ctx, SessionId, const std::array<LegStats, 2>&);

namespace command {
struct AddSession {
  std::unique_ptr<RelaySession> session;
};
struct AddVoiceSession {
  std::unique_ptr<VoiceSession> session;
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
struct SetVoiceFormat {
  SessionId id;
  VoiceFormat format;
};
struct Play {
  SessionId id;
  AudioPtr audio;
  uint32_t tag;
};
struct StopPlaying {
  SessionId id;
};
struct Record {
  SessionId id;
  RecordSpec spec;
};
struct StopRecording {
  SessionId id;
};
struct Stop {};
}  // namespace command

using Command = std::variant<command::AddSession, command::AddVoiceSession, command::SetRemote, command::Release,
                             command::Query, command::Apply, command::SetVoiceFormat, command::Play,
                             command::StopPlaying, command::Record, command::StopRecording, command::Stop>;

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
  // Any thread, also after stop_and_join(): adds this worker's part of MediaPlane::totals().
  void add_totals_to(RelayTotals& sum) const { counters_.add_to(sum); }

  // Called by libevent on this worker's thread.
  struct SocketRef {
    Worker* worker;
    RelaySession* session;  // one of the two
    VoiceSession* voice;
    int leg;
    Channel channel;
  };
  void on_readable(const SocketRef& ref);
  void on_commands();
  void on_tick();
  void on_voice_timer();

 private:
  struct EventFree {
    void operator()(event* e) const;
  };
  struct BaseFree {
    void operator()(event_base* b) const;
  };
  using EventPtr = std::unique_ptr<event, EventFree>;
  struct Entry {
    std::unique_ptr<RelaySession> session;  // a relay, or
    std::unique_ptr<VoiceSession> voice;    // a voice session (leg 0 only)
    std::array<SocketRef, 4> refs;
    std::array<EventPtr, 4> events;  // leg0 rtp, leg0 rtcp, leg1 rtp, leg1 rtcp
  };

  // This worker's relay totals: written by the worker thread only, read by any thread. Relaxed
  // atomics with a single writer need no locked instruction (an add is a load and a store), and
  // they are added to once per read from a socket, from a tally on the stack, not per packet:
  // the packet path takes no lock and allocates nothing, and a reader is at most one batch
  // behind. Plain counters published on the tick would cost the same and lag up to 100 ms.
  class Counters {
   public:
    void publish(const RelayTotals& tally);  // worker thread
    void set_sessions(size_t n) { sessions_.store(n, std::memory_order_relaxed); }  // worker thread
    void add_to(RelayTotals& sum) const;     // any thread

   private:
    using Counter = std::atomic<uint64_t>;
    std::array<std::array<Counter, 2>, 2> packets_{};  // like RelayTotals::relayed
    std::array<std::array<Counter, 2>, 2> bytes_{};
    std::array<Counter, kDropReasons> dropped_{};
    Counter sessions_{0};
  };

  void run();
  void handle(Command& c);
  void add(std::unique_ptr<RelaySession> session);
  void add_voice(std::unique_ptr<VoiceSession> session);
  void watch(Entry& entry, int leg, Channel channel, int fd);
  void release(SessionId id);
  // The voice session `id`, or null (unknown, or a relay).
  VoiceSession* voice(SessionId id);
  // Sends what the voice sessions have due now and arms the voice timer for the next packet.
  void pump_voices();
  // Reads what a voice session's socket has (a bounded number of batches) and hears it.
  void hear_from(const SocketRef& ref, RelayTotals& tally);
  // Reads what `ref`'s socket has (a bounded number of batches) and relays it.
  void relay_from(const SocketRef& ref, RelayTotals& tally);
  // What the kernel took of `count` datagrams: the rest is dropped (send_failed).
  RelayTotals::Flow send_batch(int fd, mmsghdr* msgs, size_t count);

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
  EventPtr voice_timer_;
  std::unordered_map<SessionId, std::unique_ptr<Entry>> sessions_;
  std::vector<VoiceSession*> voices_;  // the voice sessions among sessions_, for the timer
  Counters counters_;

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
