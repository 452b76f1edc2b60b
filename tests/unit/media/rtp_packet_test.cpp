#include "media/rtp_packet.h"

#include <gtest/gtest.h>

#include "rtp_test_packets.h"

namespace b2bua::media {
namespace {

using test::rtcp_rr;
using test::rtp_packet;

PacketKind kind_of(const std::vector<uint8_t>& p, bool rtcp_socket = false) {
  RtpHeader h;
  return classify(p.data(), p.size(), rtcp_socket, h);
}

TEST(RtpPacket, ValidRtpIsParsed) {
  auto p = rtp_packet(0x1234, 0xdeadbeef, 0xcafef00d);
  RtpHeader h;
  ASSERT_EQ(classify(p.data(), p.size(), false, h), PacketKind::rtp);
  EXPECT_EQ(h.seq, 0x1234);
  EXPECT_EQ(h.timestamp, 0xdeadbeefu);
  EXPECT_EQ(h.ssrc, 0xcafef00du);
}

TEST(RtpPacket, EveryTruncationOfAValidPacketBelowTheHeaderIsInvalid) {
  auto p = rtp_packet(1, 2, 3, 0, 0);
  for (size_t len = 0; len < 12; ++len) {
    RtpHeader h;
    EXPECT_EQ(classify(p.data(), len, false, h), PacketKind::invalid) << "len " << len;
  }
}

TEST(RtpPacket, WrongVersionIsInvalid) {
  auto p = rtp_packet(1, 2, 3);
  p[0] = 0x40;  // version 1
  EXPECT_EQ(kind_of(p), PacketKind::invalid);
  p[0] = 0x00;  // STUN-like first octet
  EXPECT_EQ(kind_of(p), PacketKind::invalid);
}

TEST(RtpPacket, CsrcListMustFitTheDatagram) {
  auto p = rtp_packet(1, 2, 3, 0, 8);
  p[0] = 0x80 | 3;  // three CSRCs need 12 more bytes than the 8 of payload
  EXPECT_EQ(kind_of(p), PacketKind::invalid);
  p[0] = 0x80 | 2;
  EXPECT_EQ(kind_of(p), PacketKind::rtp);
}

TEST(RtpPacket, HeaderExtensionMustFitTheDatagram) {
  auto p = rtp_packet(1, 2, 3, 0, 4);
  p[0] = 0x90;  // X bit: 4-byte extension header in the payload, length 0 words
  p[12] = 0xbe;
  p[13] = 0xde;
  p[14] = 0;
  p[15] = 0;
  EXPECT_EQ(kind_of(p), PacketKind::rtp);
  p[15] = 1;  // one more word than the datagram has
  EXPECT_EQ(kind_of(p), PacketKind::invalid);
  auto short_ext = rtp_packet(1, 2, 3, 0, 2);
  short_ext[0] = 0x90;  // extension header itself truncated
  EXPECT_EQ(kind_of(short_ext), PacketKind::invalid);
}

TEST(RtpPacket, PaddingCountMustBeSane) {
  auto p = rtp_packet(1, 2, 3, 0, 4);
  p[0] = 0xa0;  // P bit
  p.back() = 4;
  EXPECT_EQ(kind_of(p), PacketKind::rtp);
  p.back() = 0;
  EXPECT_EQ(kind_of(p), PacketKind::invalid);
  p.back() = 5;  // more padding than payload
  EXPECT_EQ(kind_of(p), PacketKind::invalid);
}

TEST(RtpPacket, AnyPayloadTypeIsRtp) {
  for (uint8_t pt : {0, 8, 9, 13, 18, 96, 101, 127}) {
    EXPECT_EQ(kind_of(rtp_packet(1, 2, 3, pt)), PacketKind::rtp) << int{pt};
  }
}

TEST(RtpPacket, RtcpOnItsSocketAndMultiplexedOnTheRtpSocket) {
  auto rr = rtcp_rr(0x11223344);
  RtpHeader h;
  ASSERT_EQ(classify(rr.data(), rr.size(), true, h), PacketKind::rtcp);
  EXPECT_EQ(h.ssrc, 0x11223344u);
  EXPECT_EQ(kind_of(rr, false), PacketKind::rtcp);  // RFC 5761 demultiplexing
  // An RTP packet arriving on the RTCP socket is not RTCP.
  EXPECT_EQ(kind_of(rtp_packet(1, 2, 3), true), PacketKind::invalid);
}

TEST(RtpPacket, RtcpLengthFieldMustFitTheDatagram) {
  auto rr = rtcp_rr(1);
  rr[3] = 2;  // claims 12 bytes, has 8
  EXPECT_EQ(kind_of(rr, true), PacketKind::invalid);
  auto tiny = std::vector<uint8_t>{0x80, 200, 0, 0};
  EXPECT_EQ(kind_of(tiny, true), PacketKind::invalid);
}

}  // namespace
}  // namespace b2bua::media
