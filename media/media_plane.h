// The seam between the signalling plane and the media plane (the RTP relay).
//
// The signalling plane (SIP thread) allocates a relay session per call, tells each leg where its
// peer's media is (from SDP), updates it on re-INVITE, and releases it when the call ends. The
// media plane owns every RTP socket and runs on its own libevent worker thread(s); it reports
// back through MediaEvents, called on a media thread: the implementation must hand the event
// over to its own thread (the daemon posts it to the SIP thread) and return at once.
//
// allocate() is synchronous on purpose: it reserves ports and binds the sockets on the calling
// thread, so the caller can write SDP right away. Every other command is queued to the worker
// that owns the session and returns at once; commands for one session are applied in order.
//
// Two kinds of session: a relay (allocate(), two legs, packets pass from one peer to the other)
// and a voice session (allocate_voice(), one leg whose other end is b2bua itself: it plays
// prompts to the peer, records what the peer says and hears its key presses). set_remote(),
// release(), query() and the media timeout apply to both; a voice session has leg 0 only.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "media/audio.h"

namespace b2bua::media {

// An IPv4 or IPv6 transport address.
struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;

  static bool parse(const std::string& ip, uint16_t port, Endpoint& out);
  std::string ip() const;
  uint16_t port() const;
  std::string to_string() const;  // "1.2.3.4:5" or "[::1]:5"
  bool valid() const { return len != 0; }
  friend bool operator==(const Endpoint& a, const Endpoint& b);
};

using SessionId = uint64_t;

// Which network a leg faces. It labels the relay totals (lan_to_wan, ...); which sockets a leg
// gets is decided by its bind_ip alone (LAN and WAN may share an address in a test).
enum class Side : uint8_t { lan = 0, wan = 1 };
const char* side_name(Side side);  // "lan", "wan"

// What each side of a session binds to: the local address its sockets use.
struct LegSpec {
  std::string bind_ip;   // LAN address for a phone leg, WAN address for a trunk leg
  Side side = Side::lan; // the network bind_ip is on
};

// Where a leg's sockets are, to be written into the SDP sent on that leg.
struct LegPorts {
  std::string ip;
  uint16_t rtp_port = 0;   // even
  uint16_t rtcp_port = 0;  // rtp_port + 1
};

struct Allocation {
  SessionId id = 0;
  std::array<LegPorts, 2> legs;
};

struct AllocationError {
  std::string reason;  // e.g. "port pool exhausted (20000-20999)"; the call fails with 503
};

using AllocateResult = std::variant<Allocation, AllocationError>;

// RFC 3264 direction of the media a leg's peer offered/answered.
enum class Direction { sendrecv, sendonly, recvonly, inactive };

// Remote media of one leg, as the SDP on that leg says.
struct RemoteMedia {
  Endpoint rtp;          // from c= and m=
  Endpoint rtcp;         // from a=rtcp or rtp port + 1; ignored with rtcp_mux
  bool rtcp_mux = false; // both sides offered a=rtcp-mux
  Direction direction = Direction::sendrecv;
  uint32_t clock_rate = 8000; // RTP clock of the first payload type, for RFC 3550 jitter
  // Whether the peer's packets can come from the address above: false for a private address
  // on a WAN leg (a peer behind a NAT names its LAN address, its packets come from its NAT's).
  // Only then is that address worth waiting for before latching (relay_session.h).
  bool sdp_names_source = true;
};

// Per-leg counters (what the leg received from its peer unless said).
struct LegStats {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t packets_sent = 0;
  uint64_t lost = 0;             // from RTP sequence gaps
  uint64_t out_of_order = 0;
  uint64_t dropped_source = 0;   // from a source other than the latched peer
  uint64_t dropped_invalid = 0;  // truncated or not RTP/RTCP
  double jitter_ms = 0;          // RFC 3550 A.8 interarrival jitter
  Endpoint latched;              // invalid until latched

  // Folds in the same leg's counters of another session of the call (one per m-line): counts
  // add up, jitter is the worst of the two, and the first valid latched peer is kept.
  void add(const LegStats& other);
};

// Why the relay did not pass a datagram on. Every datagram a relay socket reads is either
// relayed or counted under exactly one reason.
enum class DropReason : uint8_t {
  wrong_source,    // not the leg's latched (or SDP-declared) peer, a stranger during the latch
                   // hold-off, or the leg has no remote yet
  malformed,       // truncated, or neither RTP nor RTCP
  no_destination,  // accepted, but the other leg's peer is not known yet (no SDP from it)
  send_failed,     // the kernel refused the send: socket buffer full, destination unreachable
};
inline constexpr size_t kDropReasons = 4;
const char* drop_reason_name(DropReason reason);  // "wrong_source", "malformed", ...

// What the relay did since the plane started, all sessions together (MediaPlane::totals()).
struct RelayTotals {
  struct Flow {
    uint64_t packets = 0;
    uint64_t bytes = 0;  // UDP payload
  };
  // Datagrams sent on to the other leg's peer, by [receiving leg's side][sending leg's side]
  // (Side as index): relayed[lan][wan] is what phones sent towards providers.
  std::array<std::array<Flow, 2>, 2> relayed{};
  std::array<uint64_t, kDropReasons> dropped{};  // by DropReason
  uint64_t sessions = 0;                         // open now
  // The port pool: pairs in it and in use now; allocations that failed (the call got a 503)
  // and ports the pool had free but another program held (bind: in use) since the start; the
  // last failure's reason and unix time; and of a sample of free pairs probed now (bound and
  // closed at once, between two allocations), those another program holds.
  struct Pool {
    uint64_t capacity = 0;
    uint64_t in_use = 0;
    uint64_t allocation_failures = 0;
    uint64_t taken_elsewhere = 0;
    std::string last_failure;
    int64_t last_failure_at = 0;
    uint64_t probed = 0;
    std::vector<uint16_t> busy;  // RTP ports of the probed pairs another program holds
  } pool;

  Flow& flow(Side from, Side to) { return relayed[static_cast<size_t>(from)][static_cast<size_t>(to)]; }
  const Flow& flow(Side from, Side to) const {
    return relayed[static_cast<size_t>(from)][static_cast<size_t>(to)];
  }
  uint64_t& drops(DropReason r) { return dropped[static_cast<size_t>(r)]; }
  uint64_t drops(DropReason r) const { return dropped[static_cast<size_t>(r)]; }
};

// How b2bua speaks on a voice session's leg, from the peer's SDP (the answer we give names it).
struct VoiceFormat {
  uint8_t payload_type = 0;     // 0 PCMU or 8 PCMA
  int dtmf_payload_type = -1;   // RFC 4733 telephone-event, -1 when not offered
};

struct RecordSpec {
  int max_ms = 120000;         // the recording ends at this length
  int silence_ms = 0;          // ... or after this much continuous silence once something was heard (0: never)
  int initial_silence_ms = 0;  // ... or when nothing but silence came for this long from the start (0: never)
};

struct Recording {
  enum class End { stopped, silence, max_length, released } end = End::stopped;
  std::vector<int16_t> samples;  // what was heard, decoded (silence that ended it trimmed)
};

// What a voice session reports (MediaEvents::on_voice).
struct VoiceEvent {
  enum class Kind { dtmf, played, recorded } kind = Kind::dtmf;
  char digit = 0;       // dtmf: '0'-'9', '*', '#', 'A'-'D'
  uint32_t tag = 0;     // played: the tag given to play()
  Recording recording;  // recorded
};

class MediaEvents {
 public:
  virtual ~MediaEvents() = default;
  // The leg learned its peer's real source address (symmetric RTP).
  virtual void on_latched(SessionId id, int leg, const Endpoint& peer) = 0;
  // No packet in either direction for the (hold-aware) timeout: the call should end.
  virtual void on_media_timeout(SessionId id) = 0;
  // Final counters of a released session, for the call record.
  virtual void on_released(SessionId id, const std::array<LegStats, 2>& stats) = 0;
  // Once per session: leg `silent`'s peer sends nothing while the other's audio flows
  // (RelaySession::one_way); `stats` as of now, to explain it.
  virtual void on_one_way_audio(SessionId id, int silent, const std::array<LegStats, 2>& stats) = 0;
  // A voice session's news:
  //  - dtmf: a key press, reported once whether it came as RFC 4733 events or as in-band tones.
  //    An RFC 4733 event is reported on its first packet (a menu reacts at once, not after the
  //    key is let go); its later packets, the end packet and the end packet's two retransmissions
  //    (RFC 4733 section 2.5.1.4) all carry the same RTP timestamp and count once. A tone heard
  //    in the audio within 200 ms of an RFC 4733 event of the same digit is that same press.
  //  - played: the prompt play() was given with `tag` has been sent, or stop_playing() dropped it.
  //  - recorded: a recording ended (its length, silence, stop_recording(), or release: then it
  //    comes before on_released()).
  virtual void on_voice(SessionId id, VoiceEvent event) = 0;
};

struct MediaSettings {
  uint16_t port_min = 20000;   // inclusive, the pool uses even RTP ports in [min, max]
  uint16_t port_max = 20999;
  int timeout_s = 60;          // no media while sendrecv
  int hold_timeout_s = 3600;   // no media while a leg is sendonly/recvonly/inactive
  int workers = 0;             // 0: one per core
  int quarantine_s = 10;       // a released port is not reused before this
  int dscp = 46;               // EF; -1 leaves the mark alone
  // Re-latch rule (see relay_session.h): a new source replaces the latched peer only after the
  // peer was silent this long and the new source carries the peer's SSRC.
  int relatch_silence_ms = 2000;
  // Latch hold-off (see relay_session.h): for this long after media is due, only a packet from
  // the address the SDP named latches a leg; a stranger on a scanned WAN port cannot take it first.
  int latch_holdoff_ms = 1000;
  // RFC 6263: a keep-alive goes to a leg's peer when nothing was sent to it for this long
  // (held calls), and at once when its address becomes known (our NAT opens for its media).
  int keepalive_ms = 15000;
  // One-way audio (RelaySession::one_way): a sending peer silent this long while the other
  // side's audio flows; 0: never reported.
  int one_way_s = 5;
};

class MediaPlane {
 public:
  virtual ~MediaPlane() = default;

  // Any thread. Binds a pair of RTP/RTCP sockets per leg.
  virtual AllocateResult allocate(const LegSpec& leg0, const LegSpec& leg1) = 0;
  // Queued: the peer of `leg` sends/receives at `remote` (initial offer/answer or re-INVITE).
  virtual void set_remote(SessionId id, int leg, const RemoteMedia& remote) = 0;
  // Queued: the session goes away; on_released() follows with its final counters (a voice
  // session that was recording reports on_voice(recorded, End::released) first).
  virtual void release(SessionId id) = 0;
  // Queued: a snapshot of counters is delivered to `done` on a media thread.
  virtual void query(SessionId id, void (*done)(void* ctx, SessionId, const std::array<LegStats, 2>&),
                     void* ctx) = 0;

  // Voice sessions (leg 0 faces the peer, b2bua is the other end). Stats: leg 0 is the peer,
  // leg 1 stays zero. In totals() a voice session counts among the sessions and its drops are
  // counted, but its traffic is not in `relayed` (nothing passes from peer to peer).
  // Any thread, synchronous like allocate(): one leg (legs[0] of the Allocation; legs[1] left
  // empty) whose other end is b2bua.
  virtual AllocateResult allocate_voice(const LegSpec& leg) = 0;
  // Queued: the payload types to send and to expect (from the peer's SDP); until then PCMU and
  // no telephone-event. A payload type other than 0 or 8 is taken as PCMU.
  virtual void set_voice_format(SessionId id, const VoiceFormat& format) = 0;
  // Queued: plays `audio` after what is queued, in 20 ms packets at real-time pace;
  // on_voice(played, tag) when it has been sent (or dropped by stop_playing). Nothing is sent
  // before the peer's address is known (set_remote) nor while the peer does not want to receive
  // (sendonly, inactive): the prompts wait.
  virtual void play(SessionId id, AudioPtr audio, uint32_t tag) = 0;
  // Queued: drops what plays and what is queued (a key press interrupts a prompt); each
  // dropped prompt reports played.
  virtual void stop_playing(SessionId id) = 0;
  // Queued: starts keeping what the peer says (a recording already running ends as stopped
  // first); it ends on its own as `spec` says.
  virtual void record(SessionId id, const RecordSpec& spec) = 0;
  // Queued: ends the recording now; on_voice(recorded) follows with what was heard.
  virtual void stop_recording(SessionId id) = 0;

  // Any thread, also after stop(). Reads the workers' counters without stopping or waiting for
  // them: each worker's part is as of its last received batch, and the figures are not one
  // atomic cut (a packet may show as relayed before the session count moved, or the reverse).
  virtual RelayTotals totals() const = 0;
  // Settings that can change on reload (timeouts; the port range applies to new sessions).
  virtual void apply(const MediaSettings& settings) = 0;
  // Stops the workers; sessions still open are released (their on_released fires first).
  virtual void stop() = 0;
};

// Starts the worker threads. `events` must outlive the plane.
std::unique_ptr<MediaPlane> start_media_plane(const MediaSettings& settings, MediaEvents& events);

}  // namespace b2bua::media
