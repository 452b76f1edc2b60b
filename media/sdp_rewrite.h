// SDP next to the relay: read what set_remote() needs from the SDP a peer sent on one leg, and
// rewrite an SDP for the other leg so it points at the relay's sockets on that side.
//
// The rewrite hides the far side completely: c= and m= carry the relay's address and ports,
// a=rtcp its RTCP port, ICE (a=candidate, a=ice-*, a=remote-candidates, a=end-of-candidates)
// and other lines that name a peer (a=alt, a=ssrc with its cname, a=tool, e=, p=, u=) go, and
// o= is our own per leg. Codecs,
// a=rtpmap/a=fmtp, direction attributes, ptime, rtcp-mux, crypto and unknown attributes stay
// as written (sofia-sip parser/printer with sdp_f_mode_manual, see sdp_rewrite.cpp).
//
// A relay session carries one RTP/RTCP pair per leg, so a call relays one m-line per session:
// the signalling plane allocates a session for each m-line it wants relayed and passes the
// ports per m-line; an m-line without ports is disabled (port 0) in the rewritten SDP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "media/media_plane.h"

namespace b2bua::media {

struct SdpError {
  std::string reason;  // "sdp: m-line 2 (video): c= address 'foo' is not an IP address"
};

// One m-line as its sender described it.
struct SdpStream {
  std::string media;      // "audio", "video", "image", ...
  std::string proto;      // "RTP/AVP", "RTP/SAVP", "udptl", ...
  bool disabled = false;  // port 0 (RFC 3264 §6): nothing to relay
  RemoteMedia remote;     // for MediaPlane::set_remote(); rtp is invalid on a c=0.0.0.0 hold
};

// Every m-line of `sdp`, in order. Anything malformed is an SdpError naming what and where.
std::variant<std::vector<SdpStream>, SdpError> inspect_sdp(std::string_view sdp);

// How many m-lines of a call get relay sessions: audio and one more (video, or a second audio).
// Each one costs two port pairs bound on the WAN and LAN, and whoever sends the offer decides
// how many there are, so beyond this they are declined (port 0, RFC 3264 §6) instead.
inline constexpr size_t kMaxRelayedStreams = 2;

// Whether the relay takes on `stream` of an offer while `relayed` streams of the call already
// have sessions: an enabled RTP stream (RTP/AVP, RTP/AVPF, RTP/SAVP, RTP/SAVPF; the relay passes
// RTP and RTCP only, rtp_packet.h) within kMaxRelayedStreams.
bool relay_stream(const SdpStream& stream, size_t relayed);

// Our o= line on one leg (RFC 4566 §5.2): our username and session id, fixed for the call; the
// version goes up by one each time the SDP we send on this leg changes (RFC 3264 §8), and stays
// when the same SDP is sent again.
class SdpOrigin {
 public:
  explicit SdpOrigin(std::string username = "b2bua");
  uint64_t session_id() const { return session_id_; }
  uint64_t version() const { return version_; }

 private:
  friend std::variant<std::string, SdpError> rewrite_sdp(std::string_view, const std::vector<std::optional<LegPorts>>&,
                                                         SdpOrigin&);
  std::string username_;
  uint64_t session_id_;
  uint64_t version_ = 1;
  std::string last_sent_;
};

// `sdp` rewritten for the leg whose relay sockets are `ports[i]` for m-line i.
std::variant<std::string, SdpError> rewrite_sdp(std::string_view sdp, const std::vector<std::optional<LegPorts>>& ports,
                                                SdpOrigin& origin);

// How b2bua itself answers an offer when it is the far end (MediaPlane::allocate_voice): the
// SDP, what the voice session speaks, and the caller's media for set_remote().
struct VoiceAnswer {
  std::string sdp;
  VoiceFormat format;
  RemoteMedia remote;
  size_t stream = 0;  // index of the m-line answered
};

// An answer to `offer` for a voice session at `ports`: the first enabled RTP/AVP audio m-line
// that offers PCMU or PCMA (in the offer's order of preference) is answered with that codec,
// plus telephone-event (RFC 4733) when offered at 8000 Hz; every other m-line is declined
// (port 0). SdpError when no audio m-line offers G.711: the caller then gets 488.
std::variant<VoiceAnswer, SdpError> voice_answer(std::string_view offer, const LegPorts& ports, SdpOrigin& origin);

// An answer to `offer` that declines every stream (port 0, RFC 3264 6): for a dialog that must
// be answered but will carry no media (a call ending before its ACK, a feature code confirmed).
std::variant<std::string, SdpError> declining_answer(std::string_view offer, SdpOrigin& origin);

// `sdp` (another peer's offer or answer) made fit to answer `offer`: each RTP m-line keeps only
// the formats the offer's m-line of the same index has, matched by encoding name and clock rate,
// in `sdp`'s order with their fmtp (RFC 3264 6.1: an answer lists only offered formats); an
// m-line with none left, or whose counterpart is missing, declined or of another media type,
// gets port 0. Call pickup needs it: two offers (the caller's and the picking phone's) answer
// each other there. Addresses are left alone: rewrite_sdp() comes after.
std::variant<std::string, SdpError> narrow_to_offer(std::string_view sdp, std::string_view offer);

}  // namespace b2bua::media
