#include "media/rtcp_sdes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace b2bua::media {
namespace {

std::vector<uint8_t> bytes(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::string text(const std::vector<uint8_t>& p) { return std::string(p.begin(), p.end()); }

// linphonec 5.1 behind b2bua, as the NAT lab captured it on the WAN before the fix: SR, then SDES
// with CNAME "sip:10@192.168.50.2" (our LAN address) and TOOL "Linphonec/5.1.65".
const char* const kLinphoneSrSdes =
    "81c8000c3d1415caeec0b08e3a52695987a483d200000081000050a0dee0ee8f02000001"
    "0000e753000000160000000000000000"
    "81ca000b3d1415ca0113" "7369703a3130403139322e3136382e35302e32" "0610" "4c696e70686f6e65632f352e312e3635" "00";

TEST(RtcpSdes, ItemsAreBlankedWithTheSsrcAndTheLayoutKept) {
  auto p = bytes(kLinphoneSrSdes);
  ASSERT_EQ(p.size(), 100u);
  const auto before = p;
  blank_rtcp_sdes(p.data(), p.size());
  EXPECT_EQ(text(p).find("192.168"), std::string::npos);
  EXPECT_EQ(text(p).find("Linphone"), std::string::npos);
  // The SR is untouched; so are the SDES header, SSRC, item types and lengths, END and padding.
  EXPECT_TRUE(std::equal(before.begin(), before.begin() + 60, p.begin()));
  EXPECT_EQ(p[60], 1);
  EXPECT_EQ(p[61], 0x13);
  EXPECT_EQ(text(std::vector<uint8_t>(p.begin() + 62, p.begin() + 62 + 0x13)), "3d1415ca3d1415ca3d1");
  EXPECT_EQ(p[81], 6);
  EXPECT_EQ(p[82], 0x10);
  EXPECT_EQ(text(std::vector<uint8_t>(p.begin() + 83, p.begin() + 83 + 0x10)), "3d1415ca3d1415ca");
  EXPECT_EQ(p[99], 0);
}

TEST(RtcpSdes, TheSameSsrcGetsTheSameCname) {
  auto a = bytes(kLinphoneSrSdes);
  auto b = bytes(kLinphoneSrSdes);
  blank_rtcp_sdes(a.data(), a.size());
  blank_rtcp_sdes(b.data(), b.size());
  EXPECT_EQ(a, b);
}

TEST(RtcpSdes, TwoChunksAndOtherPacketsAfterwards) {
  // SDES with two chunks (CNAME "a@10.0.0.1"; NAME "x" and CNAME "b@h"), then a BYE.
  auto p = bytes("82ca0009" "11111111" "010a" "6140" "31302e302e302e31" "00000000"
                 "22222222" "020178" "0103624068" "00000000"
                 "81cb0001" "11111111");
  ASSERT_EQ(p.size(), 48u);
  blank_rtcp_sdes(p.data(), p.size());
  EXPECT_EQ(text(std::vector<uint8_t>(p.begin() + 10, p.begin() + 20)), "1111111111");
  EXPECT_EQ(p[28], 2);
  EXPECT_EQ(p[30], '2');
  EXPECT_EQ(text(std::vector<uint8_t>(p.begin() + 33, p.begin() + 36)), "222");
  EXPECT_EQ(p[36], 0);
  EXPECT_EQ(text(std::vector<uint8_t>(p.begin() + 44, p.end())), std::string(4, '\x11'));
}

TEST(RtcpSdes, TruncatedOrForeignPacketsAreNeverReadPastTheirEnd) {
  auto p = bytes(kLinphoneSrSdes);
  for (size_t len = 0; len < p.size(); ++len) {
    auto copy = p;
    blank_rtcp_sdes(copy.data(), len);  // under ASan a read past `len` would be reported
    EXPECT_TRUE(std::equal(copy.begin() + static_cast<long>(len), copy.end(), p.begin() + static_cast<long>(len)));
  }
  auto rtp = bytes("80080001000000a0deadbeef0102030405");
  const auto before = rtp;
  blank_rtcp_sdes(rtp.data(), rtp.size());
  EXPECT_EQ(rtp, before);
}

}  // namespace
}  // namespace b2bua::media
