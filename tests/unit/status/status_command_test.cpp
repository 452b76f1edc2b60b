#include "b2bua/status/status_command.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "status_test_support.h"

namespace b2bua::status {
namespace {

constexpr int64_t kNow = 1'700'003'725'000;

TEST(StatusTable, ShowsTrunksPhonesCallsAndRecentCalls) {
  std::string t = render_status_text(test::full_snapshot(), kNow);
  EXPECT_NE(t.find("b2bua 1.2.3  pid 42  up 1h 2m"), std::string::npos) << t;
  EXPECT_NE(t.find("TRUNKS"), std::string::npos);
  EXPECT_NE(t.find("provider"), std::string::npos);
  EXPECT_NE(t.find("registered"), std::string::npos);
  EXPECT_NE(t.find("in 4m 35s"), std::string::npos) << t;  // registered_until 275 s ahead
  EXPECT_NE(t.find("203.0.113.2:5060"), std::string::npos);
  EXPECT_NE(t.find("sip:b.example.net (tls)"), std::string::npos) << t;  // transport shown unless udp
  EXPECT_EQ(t.find("sip:sip.example.net (udp)"), std::string::npos);
  EXPECT_NE(t.find("12.5 ms"), std::string::npos);
  EXPECT_NE(t.find("disabled"), std::string::npos);
  EXPECT_NE(t.find("sip:10@192.168.1.20:5060"), std::string::npos);
  EXPECT_NE(t.find("not answering OPTIONS"), std::string::npos) << t;
  EXPECT_EQ(t.find("unreachable"), std::string::npos) << "a binding silent to qualify is not called gone";
  EXPECT_NE(t.find("not registered"), std::string::npos);  // extension 11 reported, no bindings
  EXPECT_NE(t.find("+49301234567"), std::string::npos);
  EXPECT_NE(t.find("sessions 1"), std::string::npos) << t;
  EXPECT_NE(t.find("lan_to_wan 50000"), std::string::npos) << t;
  EXPECT_NE(t.find("wan_to_lan 49999"), std::string::npos) << t;
  EXPECT_NE(t.find("no_destination 12"), std::string::npos) << t;
  EXPECT_NE(t.find("20000/20002"), std::string::npos);
  EXPECT_NE(t.find("2m 5s"), std::string::npos);  // the call's duration
  EXPECT_NE(t.find("487"), std::string::npos);
  EXPECT_NE(t.find("2m 0s"), std::string::npos);  // talk time of the answered record
  EXPECT_NE(t.find("6000/5990 pkts, 3/0 lost, 2.2/0.5 ms jitter"), std::string::npos) << t;
}

TEST(StatusTable, ShowsBlockedSourcesAndLockedExtensions) {
  std::string t = render_status_text(test::full_snapshot(), kNow);
  EXPECT_NE(t.find("PASSWORD GUARD\n  blocked sources 1  failed logins 7\n"), std::string::npos) << t;
  auto row = t.find("  11 ", t.find("LOCKED EXT"));
  ASSERT_NE(row, std::string::npos) << t;
  std::string line = t.substr(row, t.find('\n', row) - row);
  EXPECT_NE(line.find("in 12m 55s"), std::string::npos) << line;  // until 775 s ahead
  EXPECT_NE(line.find(" 4 "), std::string::npos) << line;
  EXPECT_NE(line.find("20"), std::string::npos) << line;
}

TEST(StatusTable, ColumnsLineUp) {
  std::string t = render_status_text(test::full_snapshot(), kNow);
  auto header = t.find("  NAME");
  auto row = t.find("  provider");
  ASSERT_NE(header, std::string::npos);
  ASSERT_NE(row, std::string::npos);
  std::string h = t.substr(header, t.find('\n', header) - header);
  std::string r = t.substr(row, t.find('\n', row) - row);
  EXPECT_EQ(h.find("STATE"), r.find("registered"));
}

TEST(StatusTable, ControlCharactersFromTheNetworkAreNeutralised) {
  std::string t = render_status_text(test::full_snapshot(), kNow);
  EXPECT_EQ(t.find('\x1b'), std::string::npos);
  EXPECT_NE(t.find("baresip?[31m"), std::string::npos);
}

TEST(StatusTable, TodaysSnapshotSaysWhatIsNotReported) {
  auto s = nlohmann::json::parse(R"({"version": "0.1.0", "pid": 1, "uptime_s": 3,
    "trunks": [], "extensions": [{"number": "10", "name": "Kitchen"}], "recent_calls": []})");
  std::string t = render_status_text(s, kNow);
  EXPECT_NE(t.find("(none configured)"), std::string::npos);
  EXPECT_NE(t.find("configured"), std::string::npos);
  EXPECT_NE(t.find("(not reported by this version)"), std::string::npos);
}

}  // namespace
}  // namespace b2bua::status
