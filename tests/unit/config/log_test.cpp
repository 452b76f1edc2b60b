#include "b2bua/common/log.h"

#include <gtest/gtest.h>

namespace b2bua::log {
namespace {

TEST(Log, KeyValueLineQuotesWhereNeeded) {
  std::string line = format(Level::warn, "trunk", "auth_failed",
                            {{"trunk", "provider"}, {"status", 403}, {"phrase", "Forbidden \"no\""}, {"empty", ""}});
  EXPECT_EQ(line, "level=warn component=trunk event=auth_failed trunk=provider status=403 "
                  "phrase=\"Forbidden \\\"no\\\"\" empty=\"\"");
}

TEST(Log, ControlCharactersNeverReachTheLineRaw) {
  // A User-Agent from the network with a terminal escape and a forged second line.
  std::string ua = std::string("Evil\x1b[2J") + "\nlevel=info event=registered" + std::string(1, '\0') + "\x7f";
  std::string line = format(Level::info, "registrar", "binding_added", {{"user_agent", ua}});
  EXPECT_EQ(line, "level=info component=registrar event=binding_added "
                  "user_agent=\"Evil\\x1b[2J\\nlevel=info event=registered\\x00\\x7f\"");
  for (char c : line) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << int(c);
}

TEST(Log, LevelFilters) {
  set_level(Level::warn);
  EXPECT_FALSE(enabled(Level::info));
  EXPECT_TRUE(enabled(Level::error));
  set_level(Level::info);
  EXPECT_TRUE(enabled(Level::info));
}

}  // namespace
}  // namespace b2bua::log
