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

TEST(Log, LevelFilters) {
  set_level(Level::warn);
  EXPECT_FALSE(enabled(Level::info));
  EXPECT_TRUE(enabled(Level::error));
  set_level(Level::info);
  EXPECT_TRUE(enabled(Level::info));
}

}  // namespace
}  // namespace b2bua::log
