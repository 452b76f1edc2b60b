// SDP between the legs: each offer or answer one leg sends is checked and rewritten for the
// other leg so that it names the relay's sockets on that side (media/sdp_rewrite.h), with
// relay sessions allocated by the first offer of each m-line (an answer never adds one, RFC
// 3264 6), for at most media::kMaxRelayedStreams RTP m-lines; the others are declined. Between
// two LAN phones that reach each other (calls.direct_media_internal) the SDP passes unchanged
// and the media flows phone to phone.
#include <strings.h>

#include "b2bua/calls/call.h"
#include "b2bua/calls/call_manager.h"
#include "b2bua/common/log.h"
#include "b2bua/trunk/host_port.h"

namespace b2bua::calls {
namespace {

// The IP address a SIP URI names as its host, in one spelling ("fd00::1" for "[fd00:0::1]");
// empty for a domain name.
std::string uri_ip(const url_t* url) {
  if (!url || !url->url_host) return {};
  std::string host = url->url_host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  media::Endpoint parsed;
  return media::Endpoint::parse(host, 0, parsed) ? parsed.ip() : std::string{};
}

std::string uri_ip(const std::string& uri) {
  su_home_t home[1] = {SU_HOME_INIT(home)};
  std::string ip = uri_ip(url_make(home, uri.c_str()));
  su_home_deinit(home);
  return ip;
}

// A phone that sends from the address its Contact names has no NAT between it and us, so a
// peer in the LAN can send to that address too.
bool reachable_directly(const config::Lan& lan, const std::string& source_ip, const std::string& contact_ip) {
  return !source_ip.empty() && source_ip == contact_ip && lan.contains(source_ip);
}

}  // namespace

bool Call::phones_reach_each_other(const std::string& caller_source, const sip_contact_t* caller_contact) const {
  const config::Lan& lan = config->lan;
  media::Endpoint source;
  if (!media::Endpoint::parse(caller_source, 0, source)) return false;
  if (!caller_contact || !reachable_directly(lan, source.ip(), uri_ip(caller_contact->m_url))) return false;
  for (const auto& leg : b) {
    // A phone leg goes to the registered Contact through the flow the REGISTER came on.
    if (!reachable_directly(lan, uri_ip(leg->proxy), uri_ip(leg->request_uri))) return false;
  }
  return !b.empty();
}

std::string Call::sdp_of(const sip_t* sip) {
  if (!sip || !sip->sip_payload || !sip->sip_payload->pl_data || sip->sip_payload->pl_len == 0) return {};
  if (sip->sip_content_type && sip->sip_content_type->c_type &&
      strcasecmp(sip->sip_content_type->c_type, "application/sdp") != 0) {
    return {};
  }
  return std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
}

std::optional<std::string> Call::declining_answer(Leg& to, const std::string& offer) {
  auto answer = media::declining_answer(offer, to.origin);
  if (auto* text = std::get_if<std::string>(&answer)) return *text;
  return std::nullopt;
}

std::optional<std::string> Call::bridge_sdp(Leg& from, Leg& to, const std::string& sdp, bool is_offer) {
  auto rejected = [this](const media::SdpError& err) {
    B2BUA_LOG(warn, "calls", "sdp_rejected", {{"call", id}, {"reason", err.reason}});
    return std::optional<std::string>{};
  };
  auto inspected = media::inspect_sdp(sdp);
  if (auto* err = std::get_if<media::SdpError>(&inspected)) return rejected(*err);
  if (direct_media) return sdp;
  const auto& offered = std::get<std::vector<media::SdpStream>>(inspected);
  media::MediaPlane* relay = manager.context().media;
  int from_side = from.is_a ? 0 : 1;
  size_t to_side = from.is_a ? 1 : 0;
  // The network each session leg faces (the relay counts by direction): its SIP leg's agent.
  size_t relayed = 0;
  for (const auto& allocation : streams) relayed += allocation.has_value();
  std::string declined;  // m-lines this offer adds that the relay does not take
  std::vector<std::optional<media::LegPorts>> ports;
  for (size_t i = 0; i < offered.size(); ++i) {
    const auto& s = offered[i];
    if (i >= streams.size()) {
      // A stream we have no session for yet (the first offer, or one a re-offer adds). An
      // answer never adds streams (RFC 3264 6), so only offers allocate, and a declined m-line
      // keeps its empty slot: the same offer again neither allocates nor logs.
      std::optional<media::Allocation> allocation;
      const bool wanted = is_offer && !s.disabled && relay;
      if (wanted && !media::relay_stream(s, relayed)) {
        declined += (declined.empty() ? "" : ",") + std::to_string(i + 1) + ":" + s.media + "/" + s.proto;
      } else if (wanted) {
        auto result = relay->allocate(media::LegSpec{a_bind_ip, side_of(*a)},
                                      media::LegSpec{b_bind_ip, side_of(from.is_a ? to : from)});
        if (auto* failure = std::get_if<media::AllocationError>(&result)) {
          B2BUA_LOG(error, "calls", "relay_unavailable", {{"call", id}, {"reason", failure->reason}});
          return std::nullopt;
        }
        allocation = std::get<media::Allocation>(result);
        manager.session_allocated(allocation->id, *this);
        ++relayed;
      }
      streams.push_back(allocation);
    }
    const auto& allocation = streams[i];
    if (!allocation || s.disabled) {
      ports.emplace_back(std::nullopt);
      continue;
    }
    media::RemoteMedia remote = s.remote;
    // A private address in SDP from the WAN is a peer behind a NAT: its packets come from the
    // NAT's public address, so the relay has no address to wait for before latching.
    remote.sdp_names_source = sdp_names_source(from, remote);
    relay->set_remote(allocation->id, from_side, remote);
    if (remotes_.size() <= i) remotes_.resize(i + 1);
    remotes_[i][static_cast<size_t>(from_side)] = remote;
    media::LegPorts p = allocation->legs[to_side];
    p.ip = to.sdp_address;  // e.g. our public address towards a trunk, not the bind address
    ports.emplace_back(p);
  }
  if (!declined.empty()) {
    B2BUA_LOG(info, "calls", "streams_declined",
              {{"call", id}, {"m_lines", declined}, {"max_relayed", media::kMaxRelayedStreams}});
  }
  auto rewritten = media::rewrite_sdp(sdp, ports, to.origin);
  if (auto* err = std::get_if<media::SdpError>(&rewritten)) return rejected(*err);
  return std::get<std::string>(rewritten);
}

Leg* Call::on_side(size_t side) const {
  for (Leg* leg : {a.get(), winner}) {
    if (leg && (leg->is_a ? 0u : 1u) == side) return leg;
  }
  return nullptr;
}

const media::RemoteMedia* Call::remote_of(media::SessionId session, size_t side) const {
  for (size_t i = 0; i < streams.size() && i < remotes_.size(); ++i) {
    if (streams[i] && streams[i]->id == session && remotes_[i][side]) return &*remotes_[i][side];
  }
  return nullptr;
}

std::optional<Call::Sessions> Call::sessions_with_side_on_wan(size_t moved, const std::string& sdp) {
  media::MediaPlane* relay = manager.context().media;
  auto inspected = media::inspect_sdp(sdp);
  auto* offered = std::get_if<std::vector<media::SdpStream>>(&inspected);
  Leg* staying = on_side(1 - moved);
  if (!relay || !offered || !staying) return std::nullopt;
  media::LegSpec specs[2];
  specs[moved] = media::LegSpec{config->wan.address, media::Side::wan};
  specs[1 - moved] = media::LegSpec{moved == 0 ? b_bind_ip : a_bind_ip,
                                    &staying->agent == manager.context().wan ? media::Side::wan : media::Side::lan};
  Sessions next;
  for (size_t i = 0; i < offered->size(); ++i) {
    // The streams relayed now, and no others: the staying party's answer chose them.
    if (i >= streams.size() || !streams[i] || (*offered)[i].disabled) {
      next.emplace_back(std::nullopt);
      continue;
    }
    auto result = relay->allocate(specs[0], specs[1]);
    if (auto* failure = std::get_if<media::AllocationError>(&result)) {
      B2BUA_LOG(error, "calls", "relay_unavailable", {{"call", id}, {"reason", failure->reason}});
      release_sessions(next);
      return std::nullopt;
    }
    next.emplace_back(std::get<media::Allocation>(result));
  }
  return next;
}

void Call::adopt_sessions(Sessions next, size_t moved) {
  media::MediaPlane* relay = manager.context().media;
  const size_t stay = 1 - moved;
  Remotes remotes(next.size());
  for (size_t i = 0; i < next.size(); ++i) {
    if (!next[i]) continue;
    manager.session_allocated(next[i]->id, *this);
    // The staying party sends from where it did; the relay needs no new latch for it.
    if (i < remotes_.size() && remotes_[i][stay]) {
      relay->set_remote(next[i]->id, static_cast<int>(stay), *remotes_[i][stay]);
      remotes[i][stay] = remotes_[i][stay];
    }
  }
  release_sessions(streams);
  streams = std::move(next);
  remotes_ = std::move(remotes);
  (moved == 0 ? a_bind_ip : b_bind_ip) = config->wan.address;
  ports_moved_ = true;
}

media::Side Call::side_of(const Leg& leg) const {
  return &leg.agent == manager.context().wan ? media::Side::wan : media::Side::lan;
}

bool Call::sdp_names_source(const Leg& from, const media::RemoteMedia& remote) const {
  // A peer on the WAN that names a private address sits behind a NAT: its packets come from
  // the NAT's address, so the one in its SDP is nothing to wait for (relay_leg.h, hold-off).
  return !(side_of(from) == media::Side::wan && trunk::is_private_ip(remote.rtp.ip()));
}

void Call::release_sessions(Sessions& sessions) {
  for (const auto& allocation : sessions) {
    if (allocation) manager.context().media->release(allocation->id);
  }
  sessions.clear();
}

void Call::rebind_b_side(const std::string& ip) {
  if (ip == b_bind_ip) return;
  b_bind_ip = ip;
  // Sessions bound for the phones cannot serve a provider: released (their counters are not
  // part of the record) and allocated again, on the new side, by the offer to the new leg.
  release_sessions(streams);
  remotes_.clear();
}

}  // namespace b2bua::calls
