#include "b2bua/calls/extension_settings.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "storage/store.h"
#include "tests/unit/storage/storage_test_support.h"

namespace b2bua::calls {
namespace {

using storage::testing::TempDir;

FeatureCode code(const char* uri_user) {
  const auto parsed = parse_feature_code(unescape_user(uri_user));
  if (!parsed) throw std::runtime_error(std::string("not a feature code: ") + uri_user);
  return *parsed;
}

config::Extension extension(const std::string& number) {
  config::Extension e;
  e.number = number;
  return e;
}

// Extension 10 as an admin might configure it: busy calls to the mailbox extension 19.
config::Extension configured_10() {
  config::Extension e = extension("10");
  e.forward.busy = "19";
  e.forward.no_answer = "19";
  e.forward.no_answer_after = 25;
  return e;
}

std::vector<storage::ExtensionSettingRow> rows_of(storage::Store& store) {
  return store.extension_settings().load_all();
}

// --- without a store -----------------------------------------------------------------------------

TEST(ExtensionSettings, WithNothingStoredTheConfigApplies) {
  ExtensionSettings settings(nullptr);
  const config::Extension e = configured_10();
  const auto effective = settings.effective(e);
  EXPECT_EQ(effective.forward, e.forward);
  EXPECT_FALSE(effective.dnd);
  EXPECT_TRUE(effective.call_waiting);

  config::Extension quiet = extension("11");
  quiet.dnd = true;
  quiet.call_waiting = false;
  EXPECT_TRUE(settings.effective(quiet).dnd);
  EXPECT_FALSE(settings.effective(quiet).call_waiting);
}

TEST(ExtensionSettings, ForwardSetByThePhoneWinsOverTheConfig) {
  ExtensionSettings settings(nullptr);
  EXPECT_TRUE(settings.apply("10", code("*67*0301234567%23")));
  EXPECT_TRUE(settings.apply("10", code("*21*+4930999%23")));
  const auto effective = settings.effective(configured_10());
  EXPECT_EQ(effective.forward.busy, "0301234567");
  EXPECT_EQ(effective.forward.always, "+4930999");
  EXPECT_EQ(effective.forward.no_answer, "19") << "untouched keys keep the config's value";
  EXPECT_EQ(effective.forward.no_answer_after, 25);
  EXPECT_EQ(effective.forward.unregistered, std::nullopt);
}

TEST(ExtensionSettings, ForwardClearedByThePhoneIsOffEvenWhenTheConfigNamesATarget) {
  ExtensionSettings settings(nullptr);
  EXPECT_TRUE(settings.apply("10", code("%2367%23")));
  const auto effective = settings.effective(configured_10());
  EXPECT_EQ(effective.forward.busy, std::nullopt);
  EXPECT_EQ(effective.forward.no_answer, "19");
}

TEST(ExtensionSettings, SetAgainAfterClearing) {
  ExtensionSettings settings(nullptr);
  settings.apply("10", code("%2367%23"));
  settings.apply("10", code("*67*12%23"));
  EXPECT_EQ(settings.effective(configured_10()).forward.busy, "12");
}

TEST(ExtensionSettings, NoAnswerTimeIsStoredOnlyWhenDialled) {
  ExtensionSettings settings(nullptr);
  settings.apply("10", code("*61*12*40%23"));
  auto effective = settings.effective(configured_10());
  EXPECT_EQ(effective.forward.no_answer, "12");
  EXPECT_EQ(effective.forward.no_answer_after, 40);

  settings.apply("10", code("*61*13%23"));
  effective = settings.effective(configured_10());
  EXPECT_EQ(effective.forward.no_answer, "13");
  EXPECT_EQ(effective.forward.no_answer_after, 40) << "no time dialled: the earlier one stays";

  settings.apply("10", code("%2361%23"));
  effective = settings.effective(configured_10());
  EXPECT_EQ(effective.forward.no_answer, std::nullopt);
  EXPECT_EQ(effective.forward.no_answer_after, 40);
}

TEST(ExtensionSettings, EveryForwardKind) {
  ExtensionSettings settings(nullptr);
  settings.apply("11", code("*21*12%23"));
  settings.apply("11", code("*67*13%23"));
  settings.apply("11", code("*61*14%23"));
  settings.apply("11", code("*62*15%23"));
  const auto forward = settings.effective(extension("11")).forward;
  EXPECT_EQ(forward.always, "12");
  EXPECT_EQ(forward.busy, "13");
  EXPECT_EQ(forward.no_answer, "14");
  EXPECT_EQ(forward.unregistered, "15");
  EXPECT_EQ(forward.no_answer_after, 20) << "the config default";
}

TEST(ExtensionSettings, DoNotDisturbAndCallWaiting) {
  ExtensionSettings settings(nullptr);
  config::Extension e = extension("10");
  settings.apply("10", code("*26%23"));
  settings.apply("10", code("%2343%23"));
  EXPECT_TRUE(settings.effective(e).dnd);
  EXPECT_FALSE(settings.effective(e).call_waiting);

  settings.apply("10", code("%2326%23"));
  settings.apply("10", code("*43%23"));
  e.dnd = true;  // switched off by the phone wins over a config that switches it on
  e.call_waiting = false;
  EXPECT_FALSE(settings.effective(e).dnd);
  EXPECT_TRUE(settings.effective(e).call_waiting);
}

TEST(ExtensionSettings, SettingsBelongToTheirExtension) {
  ExtensionSettings settings(nullptr);
  settings.apply("10", code("*26%23"));
  settings.apply("10", code("*21*12%23"));
  const auto other = settings.effective(extension("11"));
  EXPECT_FALSE(other.dnd);
  EXPECT_EQ(other.forward.always, std::nullopt);
}

TEST(ExtensionSettings, PickupsAreNoSetting) {
  ExtensionSettings settings(nullptr);
  EXPECT_FALSE(settings.apply("10", code("**11")));
  EXPECT_FALSE(settings.apply("10", code("*8")));
  const ExtensionSettings::Effective unchanged{configured_10().forward, false, true};
  EXPECT_EQ(settings.effective(configured_10()), unchanged);
  config::Config c;
  c.extensions = {configured_10()};
  EXPECT_TRUE(settings.describe(c)["10"]["set_by_phone"].empty());
}

TEST(ExtensionSettings, ForwardToItselfIsRefusedAndChangesNothing) {
  ExtensionSettings settings(nullptr);
  EXPECT_FALSE(settings.apply("10", code("*21*10%23")));
  EXPECT_FALSE(settings.apply("10", code("*61*10*30%23")));
  const auto effective = settings.effective(configured_10());
  EXPECT_EQ(effective.forward.always, std::nullopt);
  EXPECT_EQ(effective.forward.no_answer, "19");
  EXPECT_EQ(effective.forward.no_answer_after, 25);
}

TEST(ExtensionSettings, ForgetGoesBackToTheConfig) {
  ExtensionSettings settings(nullptr);
  settings.apply("10", code("%2367%23"));
  settings.apply("10", code("*26%23"));
  settings.apply("11", code("*26%23"));
  settings.forget("10");
  settings.forget("12");  // nothing stored: nothing happens
  EXPECT_EQ(settings.effective(configured_10()).forward.busy, "19");
  EXPECT_FALSE(settings.effective(configured_10()).dnd);
  EXPECT_TRUE(settings.effective(extension("11")).dnd);
}

TEST(ExtensionSettings, DescribeShowsEffectiveValuesAndWhatThePhoneSet) {
  ExtensionSettings settings(nullptr);
  settings.apply("10", code("%2367%23"));
  settings.apply("10", code("*61*12*40%23"));
  settings.apply("10", code("*26%23"));
  settings.apply("99", code("*26%23"));  // not in the config: not described
  config::Config c;
  c.extensions = {configured_10(), extension("11")};
  const nlohmann::json d = settings.describe(c);
  ASSERT_TRUE(d.is_object());
  EXPECT_EQ(d.size(), 2u);
  EXPECT_FALSE(d.contains("99"));

  const nlohmann::json& ten = d["10"];
  EXPECT_EQ(ten["forward"]["always"], nullptr);
  EXPECT_EQ(ten["forward"]["busy"], nullptr);
  EXPECT_EQ(ten["forward"]["no_answer"], "12");
  EXPECT_EQ(ten["forward"]["no_answer_after"], 40);
  EXPECT_EQ(ten["forward"]["unregistered"], nullptr);
  EXPECT_EQ(ten["dnd"], true);
  EXPECT_EQ(ten["call_waiting"], true);
  EXPECT_EQ(ten["set_by_phone"],
            nlohmann::json::array({"dnd", "forward.busy", "forward.no_answer", "forward.no_answer_after"}));

  const nlohmann::json& eleven = d["11"];
  EXPECT_EQ(eleven["forward"]["busy"], nullptr);
  EXPECT_EQ(eleven["forward"]["no_answer_after"], 20);
  EXPECT_EQ(eleven["dnd"], false);
  EXPECT_EQ(eleven["set_by_phone"], nlohmann::json::array());
}

TEST(ExtensionSettings, DescribeOfAnEmptyConfigIsAnEmptyObject) {
  ExtensionSettings settings(nullptr);
  const nlohmann::json d = settings.describe(config::Config{});
  EXPECT_TRUE(d.is_object());
  EXPECT_TRUE(d.empty());
}

// --- with a store -----------------------------------------------------------------------------

TEST(ExtensionSettingsStored, ApplyWritesTheRowsTheStoreKeeps) {
  auto store = storage::open_memory_store();
  ExtensionSettings settings(store.get());
  settings.apply("10", code("*61*12*40%23"));
  settings.apply("10", code("%2367%23"));
  settings.apply("10", code("*26%23"));
  settings.apply("10", code("%2343%23"));
  settings.apply("10", code("**11"));
  settings.apply("10", code("*21*10%23"));
  const auto rows = rows_of(*store);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].key, "call_waiting");
  EXPECT_EQ(rows[0].value, "0");
  EXPECT_EQ(rows[1].key, "dnd");
  EXPECT_EQ(rows[1].value, "1");
  EXPECT_EQ(rows[2].key, "forward.busy");
  EXPECT_EQ(rows[2].value, "");
  EXPECT_EQ(rows[3].key, "forward.no_answer");
  EXPECT_EQ(rows[3].value, "12");
  EXPECT_EQ(rows[4].key, "forward.no_answer_after");
  EXPECT_EQ(rows[4].value, "40");
  for (const auto& row : rows) {
    EXPECT_EQ(row.extension, "10");
    EXPECT_GT(row.updated_at, 1700000000) << "unix seconds of the change";
  }
}

TEST(ExtensionSettingsStored, LoadsWhatIsStoredAtConstruction) {
  auto store = storage::open_memory_store();
  store->extension_settings().save({"10", "forward.always", "0301234567", 1});
  store->extension_settings().save({"10", "forward.busy", "", 1});
  store->extension_settings().save({"10", "forward.no_answer_after", "45", 1});
  store->extension_settings().save({"11", "dnd", "1", 1});
  store->extension_settings().save({"11", "call_waiting", "0", 1});
  ExtensionSettings settings(store.get());
  const auto ten = settings.effective(configured_10());
  EXPECT_EQ(ten.forward.always, "0301234567");
  EXPECT_EQ(ten.forward.busy, std::nullopt);
  EXPECT_EQ(ten.forward.no_answer, "19");
  EXPECT_EQ(ten.forward.no_answer_after, 45);
  const auto eleven = settings.effective(extension("11"));
  EXPECT_TRUE(eleven.dnd);
  EXPECT_FALSE(eleven.call_waiting);
}

TEST(ExtensionSettingsStored, ValuesThatDoNotReadBackAreIgnored) {
  auto store = storage::open_memory_store();
  store->extension_settings().save({"10", "forward.always", "sip:evil@example.com", 1});
  store->extension_settings().save({"10", "forward.busy", "10", 1});  // itself: would loop
  store->extension_settings().save({"10", "forward.no_answer_after", "2", 1});
  store->extension_settings().save({"10", "forward.unregistered", "+49 30", 1});
  store->extension_settings().save({"10", "dnd", "yes", 1});
  store->extension_settings().save({"10", "call_waiting", "", 1});
  store->extension_settings().save({"10", "voicemail", "1", 1});
  ExtensionSettings settings(store.get());
  config::Extension e = configured_10();
  e.forward.always = "11";
  const auto effective = settings.effective(e);
  EXPECT_EQ(effective.forward, e.forward);
  EXPECT_FALSE(effective.dnd);
  EXPECT_TRUE(effective.call_waiting);
  config::Config c;
  c.extensions = {e};
  EXPECT_TRUE(settings.describe(c)["10"]["set_by_phone"].empty());
}

TEST(ExtensionSettingsStored, ForgetRemovesTheRows) {
  auto store = storage::open_memory_store();
  ExtensionSettings settings(store.get());
  settings.apply("10", code("*26%23"));
  settings.apply("10", code("*67*12%23"));
  settings.apply("11", code("*26%23"));
  settings.forget("10");
  const auto rows = rows_of(*store);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].extension, "11");
}

TEST(ExtensionSettingsStored, ValuesSurviveReopeningTheDatabase) {
  TempDir dir;
  const std::string path = dir.file("b2bua.db");
  {
    auto store = storage::open_sqlite_store(path);
    ExtensionSettings settings(store.get());
    settings.apply("10", code("%2367%23"));
    settings.apply("10", code("*61*+4930123456*35%23"));
    settings.apply("10", code("*43%23"));
    settings.apply("11", code("*26%23"));
    settings.apply("11", code("*62*017612345678%23"));
    settings.apply("12", code("*26%23"));
    settings.forget("12");
    store->flush();
  }
  auto store = storage::open_sqlite_store(path);
  ExtensionSettings settings(store.get());
  config::Extension ten = configured_10();
  ten.call_waiting = false;
  const auto effective10 = settings.effective(ten);
  EXPECT_EQ(effective10.forward.busy, std::nullopt);
  EXPECT_EQ(effective10.forward.no_answer, "+4930123456");
  EXPECT_EQ(effective10.forward.no_answer_after, 35);
  EXPECT_TRUE(effective10.call_waiting);
  const auto effective11 = settings.effective(extension("11"));
  EXPECT_TRUE(effective11.dnd);
  EXPECT_EQ(effective11.forward.unregistered, "017612345678");
  EXPECT_FALSE(settings.effective(extension("12")).dnd);

  // And a later change replaces the stored one across the next reopening too.
  settings.apply("11", code("%2326%23"));
  store->flush();
  store.reset();
  store = storage::open_sqlite_store(path);
  EXPECT_FALSE(ExtensionSettings(store.get()).effective(extension("11")).dnd);
}

}  // namespace
}  // namespace b2bua::calls
