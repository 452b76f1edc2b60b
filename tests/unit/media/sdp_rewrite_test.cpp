#include "media/sdp_rewrite.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace b2bua::media {
namespace {

// Real phones' and a provider's SDPs (addresses moved to documentation ranges), one per file.
std::string corpus(const std::string& name) {
  std::ifstream f(std::string(B2BUA_SDP_CORPUS) + "/" + name);
  EXPECT_TRUE(f) << name;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string crlf(const std::string& lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

std::vector<SdpStream> inspect_ok(const std::string& sdp) {
  auto r = inspect_sdp(sdp);
  if (auto* e = std::get_if<SdpError>(&r)) ADD_FAILURE() << e->reason;
  return std::get<std::vector<SdpStream>>(r);
}

std::string rewrite_ok(const std::string& sdp, const std::vector<std::optional<LegPorts>>& ports, SdpOrigin& o) {
  auto r = rewrite_sdp(sdp, ports, o);
  if (auto* e = std::get_if<SdpError>(&r)) ADD_FAILURE() << e->reason;
  return std::get<std::string>(r);
}

bool has_line(const std::string& sdp, const std::string& line) {
  std::istringstream in(sdp);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    if (l == line) return true;
  }
  return false;
}

const LegPorts kWan{"198.51.100.1", 20000, 20001};
const LegPorts kWanVideo{"198.51.100.1", 20002, 20003};

TEST(SdpInspect, BaresipOfferWithIceAndRtcpMux) {
  auto s = inspect_ok(corpus("baresip_offer_ice.sdp"));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].media, "audio");
  EXPECT_EQ(s[0].proto, "RTP/AVP");
  EXPECT_FALSE(s[0].disabled);
  EXPECT_EQ(s[0].remote.rtp.to_string(), "192.168.1.23:10462");
  EXPECT_TRUE(s[0].remote.rtcp_mux);
  EXPECT_EQ(s[0].remote.direction, Direction::sendrecv);
  EXPECT_EQ(s[0].remote.clock_rate, 48000u);  // opus first
}

TEST(SdpInspect, LinphoneAudioAndVideoWithExplicitRtcp) {
  auto s = inspect_ok(crlf(corpus("linphone_offer_audio_video.sdp")));
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].remote.rtp.to_string(), "192.168.1.40:7078");
  EXPECT_EQ(s[0].remote.rtcp.to_string(), "192.168.1.40:7079");
  EXPECT_FALSE(s[0].remote.rtcp_mux);
  EXPECT_EQ(s[1].media, "video");
  EXPECT_EQ(s[1].remote.rtp.to_string(), "192.168.1.40:9078");
  EXPECT_EQ(s[1].remote.clock_rate, 90000u);
}

TEST(SdpInspect, ProviderAnswer) {
  auto s = inspect_ok(corpus("provider_answer.sdp"));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].remote.rtp.to_string(), "203.0.113.10:38004");
  EXPECT_FALSE(s[0].remote.rtcp.valid()) << "no a=rtcp: the relay uses port + 1";
  EXPECT_EQ(s[0].remote.clock_rate, 8000u);
}

TEST(SdpInspect, Ipv6MediaLevelConnectionAndDeclinedVideo) {
  auto s = inspect_ok(corpus("ipv6_media_level_c_video_declined.sdp"));
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].remote.rtp.to_string(), "[2001:db8::10]:49170");
  EXPECT_EQ(s[0].remote.direction, Direction::sendonly);
  EXPECT_TRUE(s[1].disabled);
}

TEST(SdpInspect, LegacyHoldIsInactiveWithoutAnAddress) {
  auto s = inspect_ok(corpus("legacy_hold.sdp"));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].remote.direction, Direction::inactive);
  EXPECT_FALSE(s[0].remote.rtp.valid());
}

TEST(SdpInspect, SessionLevelDirectionIsInherited) {
  auto s = inspect_ok("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\na=recvonly\r\n"
                      "m=audio 4000 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 0\r\na=inactive\r\n");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].remote.direction, Direction::recvonly);
  EXPECT_EQ(s[1].remote.direction, Direction::inactive);
}

TEST(SdpInspect, RtcpAttributeWithItsOwnAddress) {
  auto s = inspect_ok("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                      "m=audio 4000 RTP/AVP 0\r\na=rtcp:53020 IN IP4 126.16.64.4\r\n");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].remote.rtcp.to_string(), "126.16.64.4:53020");
}

TEST(SdpRewrite, BaresipOfferLosesEveryTraceOfTheLan) {
  SdpOrigin origin;
  const std::string out = rewrite_ok(corpus("baresip_offer_ice.sdp"), {kWan}, origin);
  for (const char* leak : {"192.168.1.23", "198.51.100.23", "candidate", "ice-", "end-of-candidates"}) {
    EXPECT_EQ(out.find(leak), std::string::npos) << leak << " leaked:\n" << out;
  }
  EXPECT_TRUE(has_line(out, "c=IN IP4 198.51.100.1")) << out;
  EXPECT_TRUE(has_line(out, "m=audio 20000 RTP/AVP 96 9 0 8 101")) << out;
  EXPECT_TRUE(has_line(out, "o=b2bua " + std::to_string(origin.session_id()) + " 1 IN IP4 198.51.100.1")) << out;
  for (const char* kept : {"a=rtpmap:96 opus/48000/2", "a=fmtp:96 stereo=1;sprop-stereo=1", "a=rtpmap:101 telephone-event/8000",
                           "a=fmtp:101 0-15", "a=rtcp-mux", "a=sendrecv", "a=ptime:20", "b=AS:197"}) {
    EXPECT_TRUE(has_line(out, kept)) << kept << " lost:\n" << out;
  }
}

TEST(SdpRewrite, LinphoneTwoStreamsGetTheirOwnPortsAndRtcp) {
  SdpOrigin origin;
  const std::string out = rewrite_ok(corpus("linphone_offer_audio_video.sdp"), {kWan, kWanVideo}, origin);
  EXPECT_EQ(out.find("192.168.1.40"), std::string::npos) << out;
  EXPECT_EQ(out.find("7079"), std::string::npos) << out;
  EXPECT_TRUE(has_line(out, "m=audio 20000 RTP/AVP 96 97 98 0 8 18 101 99 100")) << out;
  EXPECT_TRUE(has_line(out, "a=rtcp:20001")) << out;
  EXPECT_TRUE(has_line(out, "m=video 20002 RTP/AVP 96 97")) << out;
  EXPECT_TRUE(has_line(out, "a=rtcp:20003")) << out;
  EXPECT_TRUE(has_line(out, "a=fmtp:97 profile-level-id=42801F")) << out;
  EXPECT_TRUE(has_line(out, "a=rtcp-fb:96 nack pli")) << out;
  EXPECT_TRUE(has_line(out, "s=Talk")) << out;
}

TEST(SdpRewrite, StreamWithoutRelayPortsIsDeclined) {
  SdpOrigin origin;
  const std::string out = rewrite_ok(corpus("linphone_offer_audio_video.sdp"), {kWan, std::nullopt}, origin);
  EXPECT_TRUE(has_line(out, "m=video 0 RTP/AVP 96 97")) << out;
  EXPECT_EQ(out.find("9078"), std::string::npos) << out;
}

TEST(SdpRewrite, DeclinedStreamStaysDeclined) {
  SdpOrigin origin;
  const LegPorts v6{"2001:db8::1", 20000, 20001};
  const std::string out = rewrite_ok(corpus("ipv6_media_level_c_video_declined.sdp"), {v6, v6}, origin);
  EXPECT_TRUE(has_line(out, "m=video 0 RTP/AVP 31")) << out;
  EXPECT_TRUE(has_line(out, "c=IN IP6 2001:db8::1")) << out;
  EXPECT_TRUE(has_line(out, "a=sendonly")) << out;
  EXPECT_EQ(out.find("2001:db8::10"), std::string::npos) << out;
}

TEST(SdpRewrite, Ipv6PhoneToIpv4ProviderAndBack) {
  SdpOrigin to_wan;
  const std::string v4 = rewrite_ok(corpus("ipv6_media_level_c_video_declined.sdp"), {kWan}, to_wan);
  EXPECT_TRUE(has_line(v4, "c=IN IP4 198.51.100.1")) << v4;
  EXPECT_EQ(v4.find("IP6"), std::string::npos) << v4;
  SdpOrigin to_lan;
  const std::string v6 = rewrite_ok(corpus("provider_answer.sdp"), {LegPorts{"fd00::1", 21000, 21001}}, to_lan);
  EXPECT_TRUE(has_line(v6, "c=IN IP6 fd00::1")) << v6;
  EXPECT_TRUE(has_line(v6, "m=audio 21000 RTP/AVP 8 101")) << v6;
}

TEST(SdpRewrite, StreamOnAnotherRelayAddressGetsAMediaLevelConnection) {
  SdpOrigin origin;
  const std::string out = rewrite_ok(corpus("linphone_offer_audio_video.sdp"),
                                     {kWan, LegPorts{"198.51.100.2", 20002, 20003}}, origin);
  EXPECT_TRUE(has_line(out, "c=IN IP4 198.51.100.1")) << out;
  EXPECT_TRUE(has_line(out, "c=IN IP4 198.51.100.2")) << out;
}

TEST(SdpRewrite, RewrittenSdpPointsAtTheRelay) {
  SdpOrigin origin;
  const std::string out = rewrite_ok(corpus("linphone_offer_audio_video.sdp"), {kWan, kWanVideo}, origin);
  auto s = inspect_ok(out);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].remote.rtp.to_string(), "198.51.100.1:20000");
  EXPECT_EQ(s[0].remote.rtcp.to_string(), "198.51.100.1:20001");
  EXPECT_EQ(s[1].remote.rtp.to_string(), "198.51.100.1:20002");
}

TEST(SdpRewrite, OriginVersionGoesUpOnlyWhenTheSdpChanges) {
  SdpOrigin origin("gw");
  const std::string offer = corpus("provider_answer.sdp");
  const std::string first = rewrite_ok(offer, {kWan}, origin);
  const std::string again = rewrite_ok(offer, {kWan}, origin);
  EXPECT_EQ(first, again);
  EXPECT_EQ(origin.version(), 1u);
  std::string held = offer;
  held.replace(held.find("a=sendrecv"), 10, "a=sendonly");
  const std::string changed = rewrite_ok(held, {kWan}, origin);
  EXPECT_EQ(origin.version(), 2u);
  EXPECT_TRUE(has_line(changed, "o=gw " + std::to_string(origin.session_id()) + " 2 IN IP4 198.51.100.1")) << changed;
  EXPECT_TRUE(has_line(changed, "a=sendonly")) << changed;
}

TEST(SdpRewrite, SippOfferRoundTrips) {
  SdpOrigin origin;
  const std::string out = rewrite_ok(corpus("sipp_uac_offer.sdp"), {kWan}, origin);
  EXPECT_TRUE(has_line(out, "m=audio 20000 RTP/AVP 0")) << out;
  EXPECT_EQ(out.find("127.0.0.1"), std::string::npos) << out;
}

// What the signalling plane does with an offer: a relay session (here: made-up ports) for each
// m-line relay_stream() takes, in order, and no ports for the rest.
std::vector<std::optional<LegPorts>> relay_plan(const std::vector<SdpStream>& offered) {
  std::vector<std::optional<LegPorts>> ports;
  size_t relayed = 0;
  for (const auto& s : offered) {
    if (relay_stream(s, relayed)) {
      const auto rtp = static_cast<uint16_t>(20000 + 2 * relayed++);
      ports.emplace_back(LegPorts{"198.51.100.1", rtp, static_cast<uint16_t>(rtp + 1)});
    } else {
      ports.emplace_back(std::nullopt);
    }
  }
  return ports;
}

// `offer` as forwarded with relay_plan()'s ports, which land in `ports`.
std::string forward_offer(const std::string& offer, std::vector<std::optional<LegPorts>>& ports) {
  ports = relay_plan(inspect_ok(offer));
  SdpOrigin origin;
  return rewrite_ok(offer, ports, origin);
}

constexpr const char* kOfferSession = "v=0\no=- 1 1 IN IP4 192.0.2.5\ns=-\nc=IN IP4 192.0.2.5\nt=0 0\n";

// Every m-line costs two bound port pairs, and the offerer picks how many there are.
TEST(SdpRelay, ThirdStreamOfAnOfferIsDeclinedWithPortZero) {
  const std::string offer = crlf(std::string(kOfferSession) +
      "m=audio 4000 RTP/AVP 0 8\na=sendrecv\n"
      "m=video 4002 RTP/AVP 96\na=rtpmap:96 VP8/90000\n"
      "m=audio 4004 RTP/AVP 0\n");
  std::vector<std::optional<LegPorts>> ports;
  const std::string out = forward_offer(offer, ports);
  ASSERT_EQ(ports.size(), 3u);
  EXPECT_TRUE(ports[0] && ports[1]);
  EXPECT_FALSE(ports[2]) << "no relay ports for a stream beyond the cap of " << kMaxRelayedStreams;
  EXPECT_TRUE(has_line(out, "m=audio 20000 RTP/AVP 0 8")) << out;
  EXPECT_TRUE(has_line(out, "m=video 20002 RTP/AVP 96")) << out;
  EXPECT_TRUE(has_line(out, "m=audio 0 RTP/AVP 0")) << "RFC 3264 6: the m-line stays, with port 0\n" << out;
  EXPECT_EQ(out.find("4004"), std::string::npos) << out;
  const auto forwarded = inspect_ok(out);
  ASSERT_EQ(forwarded.size(), 3u);
  EXPECT_TRUE(forwarded[2].disabled);
}

TEST(SdpRelay, OnlyRtpStreamsAreRelayedAndDeclinedOnesDoNotCount) {
  const std::string offer = crlf(std::string(kOfferSession) +
      "m=audio 0 RTP/AVP 0\n"                     // declined by the offerer itself
      "m=image 4002 udptl t38\n"                  // not RTP: the relay would drop every packet
      "m=audio 4004 UDP/TLS/RTP/SAVPF 111\n"      // DTLS first: not for this relay either
      "m=audio 4006 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"
      "d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj\n"
      "m=video 4008 RTP/AVPF 96\na=rtpmap:96 VP8/90000\n"
      "m=text 4010 RTP/AVP 98\na=rtpmap:98 t140/1000\n");
  std::vector<std::optional<LegPorts>> ports;
  const std::string out = forward_offer(offer, ports);
  ASSERT_EQ(ports.size(), 6u);
  EXPECT_FALSE(ports[0] || ports[1] || ports[2] || ports[5]);
  EXPECT_TRUE(ports[3] && ports[4]);
  EXPECT_TRUE(has_line(out, "m=image 0 udptl t38")) << out;
  EXPECT_TRUE(has_line(out, "m=audio 0 UDP/TLS/RTP/SAVPF 111")) << out;
  EXPECT_TRUE(has_line(out, "m=audio 20000 RTP/SAVP 0")) << out;
  EXPECT_TRUE(has_line(out, "m=video 20002 RTP/AVPF 96")) << out;
  EXPECT_TRUE(has_line(out, "m=text 0 RTP/AVP 98")) << out;
  // A re-offer that adds a stream once the call has its two: declined as well.
  EXPECT_FALSE(relay_stream(inspect_ok(offer)[3], kMaxRelayedStreams));
}

// Malformed input: an error that says what is wrong, never a crash.
TEST(SdpMalformed, EveryBrokenBodyIsAClearError) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {"hello world", "sdp:"},
      {"o=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n", "sdp:"},
      {"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", "sdp:"},
      {"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 pbx.example.com\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
       "not an IP address"},
      {"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n", "sdp:"},
      {"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:abc\r\n",
       "a=rtcp"},
      {"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:5 IN IP4 x\r\n",
       "a=rtcp"},
      {"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio", "sdp:"},
      {std::string("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\0\r\nc=IN IP4 10.0.0.1\r\n", 44), "sdp:"},
      {std::string(70000, 'a'), "larger"},
      // Found by tests/fuzz/media: sofia's parser loops allocating on these m= lines.
      {"v=0\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 6000VT /RAPP 0\n", "malformed m= line"},
      {"v=0\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 38004 RTP/\xff\xff\xff\xff" "8 101\n", "invalid byte 0xff"},
  };
  for (const auto& [body, expected] : cases) {
    auto inspected = inspect_sdp(body);
    ASSERT_TRUE(std::holds_alternative<SdpError>(inspected)) << "accepted: " << body.substr(0, 200);
    const std::string reason = std::get<SdpError>(inspected).reason;
    EXPECT_NE(reason.find(expected), std::string::npos) << reason;
    SdpOrigin origin;
    EXPECT_TRUE(std::holds_alternative<SdpError>(rewrite_sdp(body, {kWan}, origin))) << body.substr(0, 200);
  }
}

}  // namespace
}  // namespace b2bua::media

namespace b2bua::media {
namespace {

const char* kCallerOffer =
    "v=0\r\no=far 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"
    "m=audio 30000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
    "m=video 30002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n";
const char* kPhoneOffer =
    "v=0\r\no=phone 2 2 IN IP4 192.168.1.20\r\ns=-\r\nc=IN IP4 192.168.1.20\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 9 0 8 97\r\na=rtpmap:9 G722/8000\r\na=rtpmap:97 telephone-event/8000\r\n"
    "a=fmtp:97 0-16\r\n";

TEST(SdpNarrow, KeepsOnlyOfferedFormatsInOwnOrder) {
  auto narrowed = narrow_to_offer(kPhoneOffer, kCallerOffer);
  ASSERT_TRUE(std::holds_alternative<std::string>(narrowed)) << std::get<SdpError>(narrowed).reason;
  const std::string& text = std::get<std::string>(narrowed);
  EXPECT_NE(text.find("m=audio 40000 RTP/AVP 0 8 97"), std::string::npos) << text;
  EXPECT_EQ(text.find("G722"), std::string::npos) << text;
  // Matched by name and rate, not number: the phone's 97 is the caller's 101.
  EXPECT_NE(text.find("a=rtpmap:97 telephone-event/8000"), std::string::npos) << text;
  EXPECT_NE(text.find("a=fmtp:97 0-16"), std::string::npos) << text;
}

TEST(SdpNarrow, StreamsWithoutCounterpartOrCommonFormatAreDeclined) {
  // The caller offered video the phone's SDP has no m-line for: nothing to add (an answer has
  // the offer's m-lines; the caller of narrow_to_offer() sees the count differ).
  auto narrowed = narrow_to_offer(kCallerOffer, kPhoneOffer);
  ASSERT_TRUE(std::holds_alternative<std::string>(narrowed));
  const std::string& text = std::get<std::string>(narrowed);
  EXPECT_NE(text.find("m=audio 30000 RTP/AVP 8 0 101"), std::string::npos) << text;
  EXPECT_NE(text.find("m=video 0 "), std::string::npos) << text;
  const char* g729_only =
      "v=0\r\no=x 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 18\r\n";
  auto none = narrow_to_offer(g729_only, kCallerOffer);
  ASSERT_TRUE(std::holds_alternative<std::string>(none));
  EXPECT_NE(std::get<std::string>(none).find("m=audio 0 "), std::string::npos) << std::get<std::string>(none);
}

}  // namespace
}  // namespace b2bua::media

namespace b2bua::media {
namespace {

TEST(SdpRewrite, PhoneIdentityAttributesAreDropped) {
  // baresip's SDP: its software in a=tool, its AOR (with the LAN address it registered to) as
  // the RTP cname (RFC 5576): neither may reach the other side.
  const char* offer =
      "v=0\r\no=- 1 1 IN IP4 192.168.1.20\r\ns=-\r\nc=IN IP4 192.168.1.20\r\nt=0 0\r\na=tool:baresip 1.0.0\r\n"
      "m=audio 40000 RTP/AVP 0\r\na=ssrc:3608431178 cname:sip:10@192.168.1.1:5060\r\n"
      "a=ssrc-group:FID 1 2\r\n";
  SdpOrigin origin;
  auto out = rewrite_sdp(offer, {LegPorts{"203.0.113.2", 20000, 20001}}, origin);
  ASSERT_TRUE(std::holds_alternative<std::string>(out));
  const std::string& text = std::get<std::string>(out);
  EXPECT_EQ(text.find("tool"), std::string::npos) << text;
  EXPECT_EQ(text.find("ssrc"), std::string::npos) << text;
  EXPECT_EQ(text.find("192.168.1."), std::string::npos) << text;
}

}  // namespace
}  // namespace b2bua::media
