// When a REGISTER starts a binding anew (what a phone is told once per binding, its message lamp
// state, is told again) and when it only refreshes one.
#include "b2bua/registrar/binding_table.h"

#include <gtest/gtest.h>

namespace b2bua::registrar {
namespace {

constexpr int64_t kNow = 1'700'000'000;

RegisterUpdate update(const std::string& call_id, uint32_t cseq, std::vector<ContactUpdate> contacts,
                      const std::string& source = "192.0.2.7:40000") {
  RegisterUpdate u;
  u.aor = "10";
  u.call_id = call_id;
  u.cseq = cseq;
  u.transport = "udp";
  u.source = source;
  u.user_agent = "phone";
  u.contacts = std::move(contacts);
  return u;
}

class StartsBindingTest : public ::testing::Test {
 protected:
  // The changes of one REGISTER, and which of them start a binding.
  std::vector<bool> apply(const RegisterUpdate& u, int64_t now = kNow) {
    std::vector<BindingChange> changes;
    EXPECT_TRUE(table.apply(u, now, changes));
    kinds.clear();
    std::vector<bool> starts;
    for (const auto& c : changes) {
      kinds.push_back(c.kind);
      starts.push_back(starts_binding(c));
    }
    return starts;
  }

  std::unique_ptr<storage::Store> store = storage::open_memory_store();
  BindingTable table{store->bindings()};
  std::vector<BindingChange::Kind> kinds;
};

TEST_F(StartsBindingTest, FirstRegistrationStartsRefreshWithTheSameCallIdDoesNot) {
  EXPECT_EQ(apply(update("a", 1, {{"sip:10@10.0.0.5:5060", 300, 1.0, ""}})), std::vector<bool>{true});
  EXPECT_EQ(apply(update("a", 2, {{"sip:10@10.0.0.5:5060", 300, 1.0, ""}}), kNow + 150), std::vector<bool>{false});
  EXPECT_EQ(kinds, std::vector<BindingChange::Kind>{BindingChange::Kind::refreshed});
  // A refresh from another source port (a NAT mapping renewed) is still the same binding.
  EXPECT_EQ(apply(update("a", 3, {{"sip:10@10.0.0.5:5060", 300, 1.0, ""}}, "192.0.2.7:40001"), kNow + 300),
            std::vector<bool>{false});
}

TEST_F(StartsBindingTest, RebootWithANewCallIdOnTheSameContactStarts) {
  apply(update("a", 7, {{"sip:10@10.0.0.5:5060", 300, 1.0, ""}}));
  // RFC 3261 10.2.4: one Call-ID per boot cycle; a new one (any CSeq) is the phone restarted.
  EXPECT_EQ(apply(update("b", 1, {{"sip:10@10.0.0.5:5060", 300, 1.0, ""}}), kNow + 20), std::vector<bool>{true});
  EXPECT_EQ(kinds, std::vector<BindingChange::Kind>{BindingChange::Kind::refreshed});
  EXPECT_EQ(apply(update("b", 2, {{"sip:10@10.0.0.5:5060", 300, 1.0, ""}}), kNow + 40), std::vector<bool>{false});
}

TEST_F(StartsBindingTest, RebootWithANewContactStartsTheNewBinding) {
  apply(update("a", 1, {{"sip:10@10.0.0.5:5060", 300, 1.0, ""}}));
  // Another contact: a binding of its own next to the old one, which stays until it expires.
  EXPECT_EQ(apply(update("b", 1, {{"sip:10@10.0.0.5:5072", 300, 1.0, ""}})), std::vector<bool>{true});
  EXPECT_EQ(table.of("10").size(), 2u);
}

TEST_F(StartsBindingTest, SameInstanceAtANewUriReplacesAndStarts) {
  const std::string instance = "<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";
  apply(update("a", 1, {{"sip:10@10.0.0.5:5060", 300, 1.0, instance}}));
  EXPECT_EQ(apply(update("a", 2, {{"sip:10@10.0.0.9:5060", 300, 1.0, instance}})), (std::vector<bool>{false, true}));
  EXPECT_EQ(kinds, (std::vector<BindingChange::Kind>{BindingChange::Kind::removed, BindingChange::Kind::added}));
}

TEST_F(StartsBindingTest, AfterExpiryOrRemovalTheSameContactStartsAgain) {
  apply(update("a", 1, {{"sip:10@10.0.0.5:5060", 60, 1.0, ""}}));
  auto expired = table.expire(kNow + 61);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_FALSE(starts_binding(expired[0]));
  EXPECT_EQ(apply(update("a", 2, {{"sip:10@10.0.0.5:5060", 60, 1.0, ""}}), kNow + 70), std::vector<bool>{true});
  // Unregistered (Expires 0) and back with the same Call-ID: a binding again.
  EXPECT_EQ(apply(update("a", 3, {{"sip:10@10.0.0.5:5060", 0, 1.0, ""}}), kNow + 80), std::vector<bool>{false});
  EXPECT_EQ(apply(update("a", 4, {{"sip:10@10.0.0.5:5060", 60, 1.0, ""}}), kNow + 90), std::vector<bool>{true});
}

}  // namespace
}  // namespace b2bua::registrar
