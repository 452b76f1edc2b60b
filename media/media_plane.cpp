// The media plane: a port pool shared by all workers, and the workers themselves. allocate()
// binds on the caller's thread; every other command is routed to the worker that owns the
// session (its index is in the low byte of the SessionId).
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <vector>

#include "media/media_plane.h"
#include "media/port_pool.h"
#include "media/relay_session.h"
#include "media/udp_socket.h"
#include "media/unique_fd.h"
#include "media/voice_session.h"
#include "media/worker.h"

namespace b2bua::media {

const char* side_name(Side side) { return side == Side::wan ? "wan" : "lan"; }

const char* drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::wrong_source: return "wrong_source";
    case DropReason::malformed: return "malformed";
    case DropReason::no_destination: return "no_destination";
    case DropReason::send_failed: return "send_failed";
  }
  return "unknown";
}

void LegStats::add(const LegStats& other) {
  packets += other.packets;
  bytes += other.bytes;
  packets_sent += other.packets_sent;
  lost += other.lost;
  out_of_order += other.out_of_order;
  dropped_source += other.dropped_source;
  dropped_invalid += other.dropped_invalid;
  jitter_ms = std::max(jitter_ms, other.jitter_ms);
  if (!latched.valid()) latched = other.latched;
}

namespace {

constexpr int kMaxWorkers = 255;

int default_workers() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return 1;
}

class MediaPlaneImpl final : public MediaPlane {
 public:
  MediaPlaneImpl(const MediaSettings& settings, MediaEvents& events)
      : settings_(settings),
        events_(events),
        pool_(settings.port_min, settings.port_max, TimeNs{settings.quarantine_s} * kNsPerSec) {
    int n = settings.workers > 0 ? settings.workers : default_workers();
    if (n > kMaxWorkers) n = kMaxWorkers;
    const RelayTuning tuning = RelayTuning::from(settings);
    for (int i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>(i, tuning, events, pool_));
  }
  ~MediaPlaneImpl() override { stop(); }

  AllocateResult allocate(const LegSpec& leg0, const LegSpec& leg1) override {
    std::lock_guard lock(lifecycle_);
    if (stopped_) return AllocationError{"media plane stopped"};
    const TimeNs now = monotonic_ns();
    std::array<RelayLeg, 2> legs;
    const std::array<const LegSpec*, 2> specs = {&leg0, &leg1};
    for (size_t i = 0; i < 2; ++i) {
      std::string error = bind_leg(*specs[i], legs[i], now);
      if (!error.empty()) {
        for (size_t j = 0; j < i; ++j) {
          legs[j].sockets = {};
          pool_.release(legs[j].rtp_port, now);
        }
        return AllocationError{error};
      }
    }
    const uint64_t seq = next_seq_++;
    const size_t w = seq % workers_.size();
    const SessionId id = (seq << 8) | w;
    Allocation a;
    a.id = id;
    for (size_t i = 0; i < 2; ++i) {
      a.legs[i] = {legs[i].ip, legs[i].rtp_port, static_cast<uint16_t>(legs[i].rtp_port + 1)};
    }
    workers_[w]->post(command::AddSession{std::make_unique<RelaySession>(id, std::move(legs), now)});
    return a;
  }

  AllocateResult allocate_voice(const LegSpec& spec) override {
    std::lock_guard lock(lifecycle_);
    if (stopped_) return AllocationError{"media plane stopped"};
    const TimeNs now = monotonic_ns();
    RelayLeg leg;
    std::string error = bind_leg(spec, leg, now);
    if (!error.empty()) return AllocationError{error};
    const uint64_t seq = next_seq_++;
    const size_t w = seq % workers_.size();
    const SessionId id = (seq << 8) | w;
    Allocation a;
    a.id = id;
    a.legs[0] = {leg.ip, leg.rtp_port, static_cast<uint16_t>(leg.rtp_port + 1)};
    workers_[w]->post(command::AddVoiceSession{std::make_unique<VoiceSession>(id, std::move(leg), now, events_)});
    return a;
  }

  void set_voice_format(SessionId id, const VoiceFormat& format) override {
    if (Worker* w = owner(id)) w->post(command::SetVoiceFormat{id, format});
  }
  void play(SessionId id, AudioPtr audio, uint32_t tag) override {
    if (Worker* w = owner(id)) w->post(command::Play{id, std::move(audio), tag});
  }
  void stop_playing(SessionId id) override {
    if (Worker* w = owner(id)) w->post(command::StopPlaying{id});
  }
  void record(SessionId id, const RecordSpec& spec) override {
    if (Worker* w = owner(id)) w->post(command::Record{id, spec});
  }
  void stop_recording(SessionId id) override {
    if (Worker* w = owner(id)) w->post(command::StopRecording{id});
  }

  void set_remote(SessionId id, int leg, const RemoteMedia& remote) override {
    if (Worker* w = owner(id)) w->post(command::SetRemote{id, leg, remote});
  }
  void release(SessionId id) override {
    if (Worker* w = owner(id)) w->post(command::Release{id});
  }
  void query(SessionId id, QueryDone done, void* ctx) override {
    if (Worker* w = owner(id)) w->post(command::Query{id, done, ctx});
  }

  RelayTotals totals() const override {
    // workers_ is fixed once constructed, and a stopped worker keeps its counters.
    RelayTotals sum;
    for (const auto& w : workers_) w->add_totals_to(sum);
    // Under the lifecycle lock no allocation runs: a probed pair cannot be one a call is taking.
    std::lock_guard lock(lifecycle_);
    sum.pool = pool_report_;
    sum.pool.capacity = pool_.capacity();
    sum.pool.in_use = pool_.in_use();
    for (uint16_t port : pool_.free_sample(kProbedPairs)) {
      ++sum.pool.probed;
      if (held_elsewhere(port) || held_elsewhere(static_cast<uint16_t>(port + 1))) sum.pool.busy.push_back(port);
    }
    return sum;
  }

  void apply(const MediaSettings& settings) override {
    {
      std::lock_guard lock(lifecycle_);
      settings_.port_min = settings.port_min;
      settings_.port_max = settings.port_max;
      settings_.dscp = settings.dscp;
      settings_.quarantine_s = settings.quarantine_s;
    }
    pool_.reconfigure(settings.port_min, settings.port_max, TimeNs{settings.quarantine_s} * kNsPerSec);
    for (auto& w : workers_) w->post(command::Apply{RelayTuning::from(settings)});
  }

  void stop() override {
    {
      std::lock_guard lock(lifecycle_);
      if (stopped_) return;
      stopped_ = true;
    }
    for (auto& w : workers_) w->stop_and_join();
  }

 private:
  Worker* owner(SessionId id) {
    const size_t w = id & 0xff;
    if (stopped_ || w >= workers_.size()) return nullptr;
    return workers_[w].get();
  }

  // Binds the leg's RTP/RTCP pair on a pool port; skips ports another program holds.
  std::string bind_leg(const LegSpec& spec, RelayLeg& leg, TimeNs now) {
    const size_t attempts = pool_.capacity();
    for (size_t attempt = 0; attempt < attempts; ++attempt) {
      const auto port = pool_.allocate(now);
      if (!port) break;
      std::string error;
      UdpSocket rtp = UdpSocket::bind(spec.bind_ip, *port, settings_.dscp, error);
      UdpSocket rtcp;
      if (rtp.valid()) rtcp = UdpSocket::bind(spec.bind_ip, static_cast<uint16_t>(*port + 1), settings_.dscp, error);
      if (rtp.valid() && rtcp.valid()) {
        leg.ip = spec.bind_ip;
        leg.side = spec.side;
        leg.rtp_port = *port;
        leg.sockets = {std::move(rtp), std::move(rtcp)};
        return {};
      }
      pool_.release(*port, now);
      if (error.find("in use") == std::string::npos) return failed(error);  // bad address: retrying won't help
      ++pool_report_.taken_elsewhere;
    }
    return failed("port pool exhausted (" + std::to_string(pool_.port_min()) + "-" + std::to_string(pool_.port_max()) +
                  ", " + std::to_string(pool_.in_use()) + " pairs in use)");
  }

  // Kept for the status (RelayTotals::Pool); the lifecycle lock is held.
  std::string failed(std::string error) {
    ++pool_report_.allocation_failures;
    pool_report_.last_failure = error;
    pool_report_.last_failure_at =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return error;
  }

  // Another program holds `port` (UDP, any address): binding the wildcard address fails.
  static bool held_elsewhere(uint16_t port) {
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    return ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 && errno == EADDRINUSE;
  }

  static constexpr size_t kProbedPairs = 16;
  mutable std::mutex lifecycle_;
  RelayTotals::Pool pool_report_;  // the counters; capacity, in use and the probe filled in totals()
  std::atomic<bool> stopped_{false};
  MediaSettings settings_;
  MediaEvents& events_;
  PortPool pool_;
  std::vector<std::unique_ptr<Worker>> workers_;
  uint64_t next_seq_ = 1;
};

}  // namespace

std::unique_ptr<MediaPlane> start_media_plane(const MediaSettings& settings, MediaEvents& events) {
  return std::make_unique<MediaPlaneImpl>(settings, events);
}

}  // namespace b2bua::media
