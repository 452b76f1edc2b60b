#include "b2bua/config/json_positions.h"

#include <gtest/gtest.h>

namespace b2bua::config {
namespace {

TEST(JsonPositions, FindsKeysAndValuesPastComments) {
  const char* text =
      "// header comment\n"
      "{\n"
      "  /* block\n"
      "     comment */ \"a\": { \"b\": [10, {\"c\": true}] },\n"
      "  \"s\": \"x // not a comment\", \"n\": null\n"
      "}\n";
  JsonPositions p(text);
  EXPECT_EQ(p.key("a").line, 4);
  EXPECT_EQ(p.key("a").column, 17);
  EXPECT_EQ(p.value("a").column, 22);
  EXPECT_EQ(p.value("a.b[0]").column, 30);
  EXPECT_EQ(p.value("a.b[1].c").line, 4);
  EXPECT_EQ(p.value("a.b[1].c").column, 40);
  EXPECT_EQ(p.value("n").line, 5);
  EXPECT_EQ(p.value("n").column, 35);
  EXPECT_EQ(p.value("missing").line, 0);
  EXPECT_TRUE(p.duplicate_keys().empty());
}

TEST(JsonPositions, ReportsDuplicateKeys) {
  JsonPositions p("{\"x\": 1,\n \"x\": 2}");
  ASSERT_EQ(p.duplicate_keys().size(), 1u);
  EXPECT_EQ(p.duplicate_keys()[0], "x");
  EXPECT_EQ(p.key("x").line, 2);
  EXPECT_EQ(p.value("x").line, 2);
}

}  // namespace
}  // namespace b2bua::config
