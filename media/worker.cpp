#include "media/worker.h"

#include <event2/event.h>
#include <pthread.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "media/rtcp_sdes.h"

namespace b2bua::media {

namespace {
constexpr timeval kTick{0, 100'000};  // timeouts, keep-alives: 100 ms resolution is plenty
// A busy socket yields after this many full batches so one stream cannot starve the others.
constexpr int kRoundsPerWakeup = 4;

void readable_cb(evutil_socket_t, short, void* arg) {
  const auto* ref = static_cast<const Worker::SocketRef*>(arg);
  ref->worker->on_readable(*ref);
}
void commands_cb(evutil_socket_t, short, void* arg) { static_cast<Worker*>(arg)->on_commands(); }
void tick_cb(evutil_socket_t, short, void* arg) { static_cast<Worker*>(arg)->on_tick(); }
void voice_timer_cb(evutil_socket_t, short, void* arg) { static_cast<Worker*>(arg)->on_voice_timer(); }

bool send_one(int fd, const Endpoint& to, const uint8_t* data, size_t len) {
  return ::sendto(fd, data, len, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to.addr), to.len) >= 0;
}

// The worker thread is the only writer: a relaxed load and store add without a locked
// instruction, and a concurrent reader still sees a whole value.
void bump(std::atomic<uint64_t>& counter, uint64_t n) {
  if (n != 0) counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
uint64_t read_counter(const std::atomic<uint64_t>& counter) { return counter.load(std::memory_order_relaxed); }
}  // namespace

void Worker::Counters::publish(const RelayTotals& tally) {
  for (size_t from = 0; from < 2; ++from) {
    for (size_t to = 0; to < 2; ++to) {
      bump(packets_[from][to], tally.relayed[from][to].packets);
      bump(bytes_[from][to], tally.relayed[from][to].bytes);
    }
  }
  for (size_t r = 0; r < kDropReasons; ++r) bump(dropped_[r], tally.dropped[r]);
}

void Worker::Counters::add_to(RelayTotals& sum) const {
  for (size_t from = 0; from < 2; ++from) {
    for (size_t to = 0; to < 2; ++to) {
      sum.relayed[from][to].packets += read_counter(packets_[from][to]);
      sum.relayed[from][to].bytes += read_counter(bytes_[from][to]);
    }
  }
  for (size_t r = 0; r < kDropReasons; ++r) sum.dropped[r] += read_counter(dropped_[r]);
  sum.sessions += read_counter(sessions_);
}

namespace {

// libevent's default clock is CLOCK_MONOTONIC_COARSE: 4 ms ticks at HZ=250, so a voice packet
// due in 20 ms could leave up to 4 ms late (measured: p99 4.5 ms of sender jitter at every
// load). The precise clock costs a few nanoseconds more per reading, once per wake-up.
event_base* precise_base() {
  event_config* config = event_config_new();
  if (!config) return nullptr;
  event_config_set_flag(config, EVENT_BASE_FLAG_PRECISE_TIMER);
  event_base* base = event_base_new_with_config(config);
  event_config_free(config);
  return base;
}

}  // namespace

void Worker::EventFree::operator()(event* e) const { event_free(e); }
void Worker::BaseFree::operator()(event_base* b) const { event_base_free(b); }

Worker::Worker(int index, const RelayTuning& tuning, MediaEvents& events, PortPool& pool)
    : index_(index), tuning_(tuning), events_(events), pool_(pool), base_(precise_base()) {
  if (!base_) throw std::runtime_error("event_base_new failed");
  wake_event_.reset(event_new(base_.get(), commands_.fd(), EV_READ | EV_PERSIST, commands_cb, this));
  tick_event_.reset(event_new(base_.get(), -1, EV_PERSIST, tick_cb, this));
  voice_timer_.reset(event_new(base_.get(), -1, 0, voice_timer_cb, this));
  if (!wake_event_ || !tick_event_ || !voice_timer_) throw std::runtime_error("event_new failed");
  event_add(wake_event_.get(), nullptr);
  event_add(tick_event_.get(), &kTick);
  for (size_t i = 0; i < kBatch; ++i) {
    rx_iov_[i] = {buffers_[i].data(), kMaxDatagram};
    rx_[i].msg_hdr.msg_iov = &rx_iov_[i];
    rx_[i].msg_hdr.msg_iovlen = 1;
    rx_[i].msg_hdr.msg_name = &rx_addr_[i];
  }
  thread_ = std::thread([this] { run(); });
}

Worker::~Worker() { stop_and_join(); }

void Worker::stop_and_join() {
  if (!thread_.joinable()) return;
  post(command::Stop{});
  thread_.join();
}

void Worker::run() {
  const std::string name = "media-" + std::to_string(index_);
  pthread_setname_np(pthread_self(), name.c_str());
  event_base_dispatch(base_.get());
  // Stopped: every session still open is released, so its owner gets the final counters.
  while (!sessions_.empty()) release(sessions_.begin()->first);
  // Commands that raced with Stop: sessions added after it are released too.
  commands_.drain([this](Command& c) {
    if (auto* add_cmd = std::get_if<command::AddSession>(&c)) {
      const SessionId id = add_cmd->session->id();
      add(std::move(add_cmd->session));
      release(id);
    } else if (auto* add_voice_cmd = std::get_if<command::AddVoiceSession>(&c)) {
      const SessionId id = add_voice_cmd->session->id();
      add_voice(std::move(add_voice_cmd->session));
      release(id);
    }
  });
}

void Worker::on_commands() {
  commands_.drain([this](Command& c) { handle(c); });
  if (!voices_.empty()) pump_voices();  // a prompt queued, a remote learned: maybe due now
}

VoiceSession* Worker::voice(SessionId id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second->voice.get();
}

void Worker::handle(Command& c) {
  if (auto* add_cmd = std::get_if<command::AddSession>(&c)) {
    add(std::move(add_cmd->session));
  } else if (auto* add_voice_cmd = std::get_if<command::AddVoiceSession>(&c)) {
    add_voice(std::move(add_voice_cmd->session));
  } else if (auto* remote = std::get_if<command::SetRemote>(&c)) {
    auto it = sessions_.find(remote->id);
    if (it == sessions_.end() || remote->leg < 0 || remote->leg > 1) return;
    const TimeNs now = monotonic_ns();
    if (VoiceSession* v = it->second->voice.get()) {
      if (remote->leg != 0) return;  // b2bua itself is the other end
      v->set_remote(remote->remote, now);
      v->send_keepalives(now, tuning_, send_one);
      return;
    }
    RelaySession& s = *it->second->session;
    s.set_remote(remote->leg, remote->remote, now);
    s.send_keepalives(now, tuning_, send_one);
  } else if (auto* format = std::get_if<command::SetVoiceFormat>(&c)) {
    if (VoiceSession* v = voice(format->id)) v->set_format(format->format);
  } else if (auto* play = std::get_if<command::Play>(&c)) {
    if (VoiceSession* v = voice(play->id)) v->play(std::move(play->audio), play->tag);
  } else if (auto* stop_playing = std::get_if<command::StopPlaying>(&c)) {
    if (VoiceSession* v = voice(stop_playing->id)) v->stop_playing();
  } else if (auto* record = std::get_if<command::Record>(&c)) {
    if (VoiceSession* v = voice(record->id)) v->record(record->spec, monotonic_ns());
  } else if (auto* stop_recording = std::get_if<command::StopRecording>(&c)) {
    if (VoiceSession* v = voice(stop_recording->id)) v->stop_recording();
  } else if (auto* rel = std::get_if<command::Release>(&c)) {
    release(rel->id);
  } else if (auto* q = std::get_if<command::Query>(&c)) {
    auto it = sessions_.find(q->id);
    std::array<LegStats, 2> stats{};
    if (it != sessions_.end()) stats = it->second->voice ? it->second->voice->stats() : it->second->session->stats();
    q->done(q->ctx, q->id, stats);
  } else if (auto* apply = std::get_if<command::Apply>(&c)) {
    tuning_ = apply->tuning;
  } else if (std::holds_alternative<command::Stop>(c)) {
    event_base_loopbreak(base_.get());
  }
}

void Worker::watch(Entry& entry, int leg, Channel channel, int fd) {
  const size_t slot = static_cast<size_t>(leg * 2 + channel);
  entry.refs[slot] = {this, entry.session.get(), entry.voice.get(), leg, channel};
  entry.events[slot].reset(event_new(base_.get(), fd, EV_READ | EV_PERSIST, readable_cb, &entry.refs[slot]));
  if (entry.events[slot]) event_add(entry.events[slot].get(), nullptr);
}

void Worker::add(std::unique_ptr<RelaySession> session) {
  auto entry = std::make_unique<Entry>();
  entry->session = std::move(session);
  RelaySession* s = entry->session.get();
  for (int leg = 0; leg < 2; ++leg) {
    for (Channel ch : {kRtp, kRtcp}) watch(*entry, leg, ch, s->leg(leg).sockets[ch].fd());
  }
  sessions_.emplace(s->id(), std::move(entry));
  counters_.set_sessions(sessions_.size());
}

void Worker::add_voice(std::unique_ptr<VoiceSession> session) {
  auto entry = std::make_unique<Entry>();
  entry->voice = std::move(session);
  VoiceSession* v = entry->voice.get();
  for (Channel ch : {kRtp, kRtcp}) watch(*entry, 0, ch, v->leg().sockets[ch].fd());
  voices_.push_back(v);
  sessions_.emplace(v->id(), std::move(entry));
  counters_.set_sessions(sessions_.size());
}

void Worker::release(SessionId id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Entry& entry = *it->second;
  std::array<LegStats, 2> stats;
  std::array<uint16_t, 2> ports = {0, 0};
  if (VoiceSession* v = entry.voice.get()) {
    v->release();  // a recording running is reported before on_released()
    stats = v->stats();
    ports[0] = v->leg().rtp_port;
    voices_.erase(std::find(voices_.begin(), voices_.end(), v));
  } else {
    stats = entry.session->stats();
    ports = {entry.session->leg(0).rtp_port, entry.session->leg(1).rtp_port};
  }
  sessions_.erase(it);  // events first, then sockets: the ports are free before the pool has them
  counters_.set_sessions(sessions_.size());
  const TimeNs now = monotonic_ns();
  for (uint16_t p : ports) {
    if (p != 0) pool_.release(p, now);
  }
  events_.on_released(id, stats);
}

void Worker::on_voice_timer() { pump_voices(); }

void Worker::pump_voices() {
  const TimeNs now = monotonic_ns();
  // Packets due within the next millisecond leave in this wake-up: sessions whose phases lie
  // close together share one wake-up instead of each costing its own (epoll's resolution is a
  // millisecond anyway).
  const TimeNs horizon = now + kNsPerSec / 1000;
  TimeNs next = VoicePlayer::kNever;
  for (VoiceSession* v : voices_) {
    v->pump(horizon, send_one);
    next = std::min(next, v->next_due(horizon));
  }
  if (next == VoicePlayer::kNever) {
    event_del(voice_timer_.get());
    return;
  }
  // The exact time left (epoll rounds it up to the millisecond): packets are due every 20 ms,
  // and one found late is sent at once with its own timestamp.
  const TimeNs wait = std::max<TimeNs>(next - now, 0);
  const timeval tv{static_cast<time_t>(wait / kNsPerSec), static_cast<suseconds_t>((wait % kNsPerSec) / 1000)};
  event_add(voice_timer_.get(), &tv);
}

void Worker::on_tick() {
  const TimeNs now = monotonic_ns();
  for (auto& [id, entry] : sessions_) {
    if (VoiceSession* v = entry->voice.get()) {
      v->send_keepalives(now, tuning_, send_one);
      if (v->timed_out(now, tuning_)) events_.on_media_timeout(id);
      v->on_tick(now);
      continue;
    }
    RelaySession& s = *entry->session;
    s.send_keepalives(now, tuning_, send_one);
    if (s.timed_out(now, tuning_)) events_.on_media_timeout(id);
    if (const int silent = s.one_way(now, tuning_); silent >= 0) events_.on_one_way_audio(id, silent, s.stats());
  }
}

RelayTotals::Flow Worker::send_batch(int fd, mmsghdr* msgs, size_t count) {
  RelayTotals::Flow sent;
  size_t done = 0;
  while (done < count) {
    const int n = ::sendmmsg(fd, msgs + done, static_cast<unsigned>(count - done), MSG_DONTWAIT);
    if (n > 0) {
      for (size_t i = done; i < done + static_cast<size_t>(n); ++i) sent.bytes += msgs[i].msg_len;
      done += static_cast<size_t>(n);
      sent.packets += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;  // queue full: drop the rest
    ++done;  // this datagram was refused (e.g. unreachable destination): skip it, keep the rest
  }
  return sent;
}

void Worker::on_readable(const SocketRef& ref) {
  RelayTotals tally;
  if (ref.voice) {
    hear_from(ref, tally);
  } else {
    relay_from(ref, tally);
  }
  counters_.publish(tally);
}

void Worker::hear_from(const SocketRef& ref, RelayTotals& tally) {
  VoiceSession& v = *ref.voice;
  const int fd = v.leg().sockets[ref.channel].fd();
  for (int round = 0; round < kRoundsPerWakeup; ++round) {
    for (auto& m : rx_) m.msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    const int n = ::recvmmsg(fd, rx_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;
    const TimeNs now = monotonic_ns();
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      if (rx_[i].msg_hdr.msg_flags & MSG_TRUNC) {
        ++v.leg().dropped_invalid;
        ++tally.drops(DropReason::malformed);
        continue;
      }
      bool latched = false;
      const auto drop = v.on_packet(ref.channel, rx_addr_[i], buffers_[i].data(), rx_[i].msg_len, now, tuning_, latched);
      if (latched) events_.on_latched(v.id(), 0, v.leg().latch[kRtp].peer);
      if (drop) ++tally.drops(*drop);
    }
    if (static_cast<size_t>(n) < kBatch) return;
  }
}

void Worker::relay_from(const SocketRef& ref, RelayTotals& tally) {
  RelaySession& s = *ref.session;
  const int fd = s.leg(ref.leg).sockets[ref.channel].fd();
  const int out_leg = 1 - ref.leg;
  RelayTotals::Flow& flow = tally.flow(s.leg(ref.leg).side, s.leg(out_leg).side);
  for (int round = 0; round < kRoundsPerWakeup; ++round) {
    for (auto& m : rx_) m.msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    const int n = ::recvmmsg(fd, rx_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;
    const TimeNs now = monotonic_ns();
    std::array<int, 2> out_fd = {-1, -1};
    std::array<size_t, 2> out_count = {0, 0};
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      if (rx_[i].msg_hdr.msg_flags & MSG_TRUNC) {
        ++s.leg(ref.leg).dropped_invalid;
        ++tally.drops(DropReason::malformed);
        continue;
      }
      bool latched = false;
      const Forward f = s.on_packet(ref.leg, ref.channel, rx_addr_[i], buffers_[i].data(), rx_[i].msg_len,
                                    now, tuning_, latched);
      if (latched) events_.on_latched(s.id(), ref.leg, s.leg(ref.leg).latch[kRtp].peer);
      if (f.fd < 0) {
        ++tally.drops(f.drop);
        continue;
      }
      // What phones say about themselves in RTCP stays in the LAN (rtcp_sdes.h).
      if (f.rtcp && s.leg(out_leg).side == Side::wan) blank_rtcp_sdes(buffers_[i].data(), rx_[i].msg_len);
      // At most two output sockets: the other leg's RTP and RTCP.
      const size_t slot = (out_fd[0] < 0 || out_fd[0] == f.fd) ? 0 : 1;
      out_fd[slot] = f.fd;
      const size_t k = out_count[slot]++;
      tx_iov_[slot][k] = {buffers_[i].data(), rx_[i].msg_len};
      msghdr& h = tx_[slot][k].msg_hdr;
      h.msg_name = const_cast<sockaddr_storage*>(&f.to->addr);
      h.msg_namelen = f.to->len;
      h.msg_iov = &tx_iov_[slot][k];
      h.msg_iovlen = 1;
    }
    for (size_t slot = 0; slot < 2; ++slot) {
      if (out_count[slot] == 0) continue;
      const RelayTotals::Flow sent = send_batch(out_fd[slot], tx_[slot].data(), out_count[slot]);
      const Channel ch = s.leg(out_leg).sockets[kRtp].fd() == out_fd[slot] ? kRtp : kRtcp;
      s.note_sent(out_leg, ch, sent.packets, now);
      flow.packets += sent.packets;
      flow.bytes += sent.bytes;
      tally.drops(DropReason::send_failed) += out_count[slot] - sent.packets;
    }
    if (static_cast<size_t>(n) < kBatch) return;  // drained: no need for another empty syscall
  }
}

}  // namespace b2bua::media
