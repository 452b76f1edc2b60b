// FailureLog (failure_log.h): one entry per extension, the newest; a bounded list for names
// that are no extension, however many a scanner invents.
#include "b2bua/registrar/failure_log.h"

#include <gtest/gtest.h>

namespace b2bua::registrar {
namespace {

TEST(FailureLog, KeepsTheNewestPerExtension) {
  FailureLog log;
  log.record(true, {100, "192.168.1.5:5060", "10", "wrong_password", "REGISTER"});
  log.record(true, {200, "192.168.1.6:5060", "10", "blocked", "REGISTER"});
  log.record(true, {150, "192.168.1.7:5060", "11", "outside_lan", "REGISTER"});
  ASSERT_EQ(log.by_extension().size(), 2u);
  EXPECT_EQ(log.by_extension().at("10").reason, "blocked");
  EXPECT_EQ(log.by_extension().at("10").source, "192.168.1.6:5060");
  EXPECT_TRUE(log.unknown().empty());
  log.retain([](const std::string& ext) { return ext == "11"; });
  EXPECT_EQ(log.by_extension().count("10"), 0u) << "a removed extension's failure goes with it";
  EXPECT_EQ(log.by_extension().count("11"), 1u);
}

TEST(FailureLog, UnknownUsersAreBounded) {
  FailureLog log;
  for (int i = 0; i < 1000; ++i) log.record(false, {i, "10.0.0.1:5060", "user" + std::to_string(i), "wrong_password", "REGISTER"});
  ASSERT_EQ(log.unknown().size(), FailureLog::kUnknownKept);
  EXPECT_EQ(log.unknown().back().user, "user999");
  EXPECT_EQ(log.unknown().front().user, "user" + std::to_string(1000 - FailureLog::kUnknownKept));
  EXPECT_TRUE(log.by_extension().empty());
}

}  // namespace
}  // namespace b2bua::registrar
