#include "b2bua/status/host_check.h"

#include <gtest/gtest.h>

namespace b2bua::status {
namespace {

const std::vector<std::string> kNames{"router.lan", "B2BUA.home.arpa"};

TEST(HostCheck, AddressesAndLocalhostPass) {
  EXPECT_TRUE(host_allowed("127.0.0.1:8088", {}));
  EXPECT_TRUE(host_allowed("192.168.1.1", {}));
  EXPECT_TRUE(host_allowed("[::1]:8088", {}));
  EXPECT_TRUE(host_allowed("localhost:8088", {}));
  EXPECT_TRUE(host_allowed("LocalHost", {}));
  EXPECT_TRUE(host_allowed(nullptr, {})) << "no Host header: not a browser";
}

TEST(HostCheck, ListedNamesPassWhateverTheirCase) {
  EXPECT_TRUE(host_allowed("router.lan:8088", kNames));
  EXPECT_TRUE(host_allowed("ROUTER.LAN", kNames));
  EXPECT_TRUE(host_allowed("b2bua.home.arpa.:8088", kNames)) << "a trailing dot names the same host";
}

TEST(HostCheck, AnyOtherNameIsRebinding) {
  EXPECT_FALSE(host_allowed("attacker.example:8088", kNames));
  EXPECT_FALSE(host_allowed("127.0.0.1.attacker.example", kNames));
  EXPECT_FALSE(host_allowed("router.lan.attacker.example", kNames));
  EXPECT_FALSE(host_allowed("localhost.attacker.example", {}));
  EXPECT_FALSE(host_allowed("", {}));
  EXPECT_FALSE(host_allowed("router.lan:99999", kNames)) << "not a port";
}

}  // namespace
}  // namespace b2bua::status
