// The index of extensions by number gives the answers Config::find_extension gives, from the
// snapshot it holds, and follows a rebuild.
#include "b2bua/config/extension_index.h"

#include <gtest/gtest.h>

namespace b2bua::config {
namespace {

Snapshot config_with(std::vector<std::string> numbers) {
  auto c = std::make_shared<Config>();
  for (auto& n : numbers) {
    Extension e;
    e.number = n;
    e.name = "ext " + n;
    c->extensions.push_back(e);
  }
  return c;
}

TEST(ExtensionIndexTest, FindsWhatTheConfigFinds) {
  auto c = config_with({"10", "11", "100", "1000"});
  ExtensionIndex index(c);
  for (const char* n : {"10", "11", "100", "1000", "1", "101", "", "10 "}) {
    EXPECT_EQ(index.find(n), c->find_extension(n)) << n;
  }
  EXPECT_EQ(index.find("100")->name, "ext 100");
}

TEST(ExtensionIndexTest, KeepsTheSnapshotAlive) {
  auto c = config_with({"10"});
  ExtensionIndex index(c);
  const Extension* found = index.find("10");
  c.reset();  // the registrar's own snapshot moved on; the index still holds the old one
  ASSERT_NE(index.find("10"), nullptr);
  EXPECT_EQ(index.find("10"), found);
  EXPECT_EQ(found->number, "10");
}

TEST(ExtensionIndexTest, RebuildFollowsTheNewConfig) {
  ExtensionIndex index(config_with({"10", "11"}));
  auto next = config_with({"11", "12"});
  index.rebuild(next);
  EXPECT_EQ(index.find("10"), nullptr);
  EXPECT_EQ(index.find("11"), &next->extensions[0]);
  EXPECT_EQ(index.find("12"), &next->extensions[1]);
}

TEST(ExtensionIndexTest, TheFirstOfEqualNumbersWins) {
  auto c = config_with({"10", "10"});
  ExtensionIndex index(c);
  EXPECT_EQ(index.find("10"), &c->extensions[0]);
  EXPECT_EQ(index.find("10"), c->find_extension("10"));
}

}  // namespace
}  // namespace b2bua::config
