// One-way audio, explained. The relay reports a call where one side's RTP flows and the other's,
// which its SDP said would come, does not (media::RelaySession::one_way). What it knows says why,
// in the words a VoIP admin looks for:
//   - wrong_source: packets do arrive for that side, from an address other than the one latched
//     or named in its SDP, and are dropped (a provider whose media server is not its SDP's, a
//     phone whose NAT changed its port);
//   - private_address: nothing arrives and the side is on the WAN with a private address in its
//     SDP (a peer behind a NAT that rewrites nothing and opened no mapping for us);
//   - stopped: it sent, then stopped (a phone that lost its network, a NAT mapping that expired);
//   - nothing_arrives: it never sent anything we could see (a firewall in between, or it sends
//     to an address other than ours: a SIP ALG that rewrote our SDP).
// Said once per call: one warning, a note in the call record, a metric and the status.
//
// A side whose media comes from an address other than its SDP's is no one-way call: the relay
// latches to the real source (symmetric RTP) and the audio flows. It is said once, at info,
// since it explains what an admin sees in a capture.
#include "b2bua/calls/call.h"
#include "b2bua/calls/call_manager.h"
#include "b2bua/common/log.h"
#include "b2bua/trunk/host_port.h"

namespace b2bua::calls {
namespace {

// Who a side of the relay is, for the admin: the trunk's name or the phone's extension (the
// leg of a provider's call in has no trunk of its own: the call's record names it).
std::string who(const Leg* leg, const std::string& call_trunk, bool wan) {
  if (!leg) return {};
  if (leg->trunk) return leg->trunk->name;
  return wan ? call_trunk : leg->extension;
}

}  // namespace

const char* Call::on_one_way_audio(media::SessionId session, int silent,
                                   const std::array<media::LegStats, 2>& stats) {
  const size_t side = silent == 0 ? 0 : 1;
  Leg* quiet = on_side(side);
  if (!one_way.empty() || !winner || !quiet) return nullptr;
  const media::LegStats& s = stats[side];
  const media::RemoteMedia* remote = remote_of(session, side);  // what the silent side's SDP said
  const bool wan = &quiet->agent == manager.context().wan;
  const bool private_sdp = remote && trunk::is_private_ip(remote->rtp.ip());
  const char* cause = s.dropped_source > 0            ? "wrong_source"
                      : s.packets > 0                 ? "stopped"
                      : wan && private_sdp            ? "private_address"
                                                      : "nothing_arrives";
  const char* network = wan ? "wan" : "lan";
  one_way = std::string(network) + ":" + cause;
  record.note("one_way", one_way);
  B2BUA_LOG(warn, "calls", "one_way_audio",
            {{"call", id}, {"silent", silent == 0 ? "a" : "b"}, {"side", network},
             {"who", who(quiet, record.trunk, wan)}, {"cause", cause},
             {"sdp", remote ? remote->rtp.to_string() : std::string()}, {"private", private_sdp ? "yes" : "no"},
             {"latched", s.latched.valid() ? s.latched.to_string() : "none"}, {"packets", s.packets},
             {"dropped_source", s.dropped_source}});
  return network;
}

void Call::on_latched(media::SessionId session, int leg, const media::Endpoint& peer) {
  const size_t side = leg == 0 ? 0 : 1;
  const media::RemoteMedia* sdp = remote_of(session, side);
  if (latched_elsewhere_[side] || !sdp || sdp->rtp == peer) return;
  latched_elsewhere_[side] = true;
  Leg* from = on_side(side);
  const bool wan = from && &from->agent == manager.context().wan;
  B2BUA_LOG(info, "calls", "media_source_differs",
            {{"call", id}, {"side", wan ? "wan" : "lan"}, {"who", who(from, record.trunk, wan)},
             {"sdp", sdp->rtp.to_string()}, {"from", peer.to_string()},
             {"private_sdp", trunk::is_private_ip(sdp->rtp.ip()) ? "yes" : "no"}});
}

}  // namespace b2bua::calls
