#include "b2bua/registrar/binding_table.h"

#include <gtest/gtest.h>

namespace b2bua::registrar {
namespace {

constexpr int64_t kNow = 1'700'000'000;

RegisterUpdate update(const std::string& call_id, uint32_t cseq, std::vector<ContactUpdate> contacts) {
  RegisterUpdate u;
  u.aor = "10";
  u.call_id = call_id;
  u.cseq = cseq;
  u.transport = "udp";
  u.source = "192.0.2.7:40000";
  u.user_agent = "phone";
  u.contacts = std::move(contacts);
  return u;
}

ContactUpdate contact(const std::string& uri, int expires, double q = 1.0, const std::string& instance = "") {
  return ContactUpdate{uri, expires, q, instance};
}

class BindingTableTest : public ::testing::Test {
 protected:
  std::unique_ptr<storage::Store> store = storage::open_memory_store();
  BindingTable table{store->bindings()};
  std::vector<BindingChange> changes;
};

TEST_F(BindingTableTest, AddRefreshRemoveAreWrittenThrough) {
  ASSERT_TRUE(table.apply(update("a", 1, {contact("sip:10@10.0.0.5:5060", 120)}), kNow, changes));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].kind, BindingChange::Kind::added);
  ASSERT_TRUE(table.apply(update("a", 2, {contact("sip:10@10.0.0.5:5060", 300)}), kNow + 10, changes));
  EXPECT_EQ(changes[1].kind, BindingChange::Kind::refreshed);
  auto stored = store->bindings().load_unexpired(kNow);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].expires_at, kNow + 310);
  EXPECT_EQ(stored[0].source, "192.0.2.7:40000");
  EXPECT_EQ(stored[0].cseq, 2u);
  ASSERT_TRUE(table.apply(update("a", 3, {contact("sip:10@10.0.0.5:5060", 0)}), kNow + 20, changes));
  EXPECT_EQ(changes[2].kind, BindingChange::Kind::removed);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_TRUE(store->bindings().load_unexpired(kNow).empty());
}

TEST_F(BindingTableTest, OldCSeqOnSameCallIdIsRejectedAndChangesNothing) {
  ASSERT_TRUE(table.apply(update("a", 5, {contact("sip:10@10.0.0.5", 120)}), kNow, changes));
  changes.clear();
  EXPECT_FALSE(table.apply(update("a", 5, {contact("sip:10@10.0.0.6", 120), contact("sip:10@10.0.0.5", 0)}), kNow, changes));
  EXPECT_FALSE(table.apply(update("a", 4, {contact("sip:10@10.0.0.5", 0)}), kNow, changes));
  EXPECT_TRUE(changes.empty());
  EXPECT_EQ(table.of("10").size(), 1u);
  // Another Call-ID (a rebooted phone) may update regardless of CSeq.
  EXPECT_TRUE(table.apply(update("b", 1, {contact("sip:10@10.0.0.5", 0)}), kNow, changes));
  EXPECT_EQ(table.size(), 0u);
}

TEST_F(BindingTableTest, RejectedUpdateOfUnknownAorLeavesNoEmptyEntry) {
  RegisterUpdate wildcard = update("a", 1, {});
  wildcard.wildcard = true;
  ASSERT_TRUE(table.apply(wildcard, kNow, changes));
  EXPECT_TRUE(table.aors().empty());
}

TEST_F(BindingTableTest, WildcardRemovesAll) {
  ASSERT_TRUE(table.apply(update("a", 1, {contact("sip:10@10.0.0.5", 120), contact("sip:10@10.0.0.6", 120, 0.5)}), kNow, changes));
  EXPECT_EQ(table.of("10").size(), 2u);
  RegisterUpdate wildcard = update("a", 2, {});
  wildcard.wildcard = true;
  changes.clear();
  ASSERT_TRUE(table.apply(wildcard, kNow, changes));
  EXPECT_EQ(changes.size(), 2u);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_TRUE(store->bindings().load_unexpired(kNow).empty());
}

TEST_F(BindingTableTest, SameInstanceNewAddressReplacesTheOldBinding) {
  const std::string inst = "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";
  ASSERT_TRUE(table.apply(update("a", 1, {contact("sip:10@10.0.0.5", 120, 1.0, inst)}), kNow, changes));
  ASSERT_TRUE(table.apply(update("b", 1, {contact("sip:10@10.0.0.9", 120, 1.0, inst)}), kNow, changes));
  auto list = table.of("10");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].contact, "sip:10@10.0.0.9");
}

TEST_F(BindingTableTest, ExpiryRemovesOnTime) {
  ASSERT_TRUE(table.apply(update("a", 1, {contact("sip:10@10.0.0.5", 60), contact("sip:10@10.0.0.6", 120)}), kNow, changes));
  EXPECT_TRUE(table.expire(kNow + 59).empty());
  auto gone = table.expire(kNow + 60);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].kind, BindingChange::Kind::expired);
  EXPECT_EQ(gone[0].binding.contact, "sip:10@10.0.0.5");
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(store->bindings().load_unexpired(kNow).size(), 1u);
}

TEST_F(BindingTableTest, RestoreDropsExpired) {
  ASSERT_TRUE(table.apply(update("a", 1, {contact("sip:10@10.0.0.5", 60), contact("sip:10@10.0.0.6", 600)}), kNow, changes));
  BindingTable restarted(store->bindings());
  EXPECT_EQ(restarted.restore(kNow + 100), 1u);
  ASSERT_EQ(restarted.of("10").size(), 1u);
  EXPECT_EQ(restarted.of("10")[0].contact, "sip:10@10.0.0.6");
}

TEST_F(BindingTableTest, PerAorBindingsAreBounded) {
  for (uint32_t i = 0; i < BindingTable::kMaxPerAor + 5; ++i) {
    ASSERT_TRUE(table.apply(update("a", i + 1, {contact("sip:10@10.0.0." + std::to_string(i), 100 + static_cast<int>(i))}), kNow, changes));
  }
  EXPECT_EQ(table.of("10").size(), BindingTable::kMaxPerAor);
  EXPECT_EQ(table.size(), BindingTable::kMaxPerAor);
}

TEST_F(BindingTableTest, QualifyChangesAreReportedOnce) {
  ASSERT_TRUE(table.apply(update("a", 1, {contact("sip:10@10.0.0.5", 60)}), kNow, changes));
  EXPECT_FALSE(table.set_answering_options("10", "sip:10@10.0.0.5", true));
  EXPECT_TRUE(table.set_answering_options("10", "sip:10@10.0.0.5", false));
  EXPECT_FALSE(table.set_answering_options("10", "sip:10@10.0.0.5", false));
  EXPECT_FALSE(store->bindings().load_unexpired(kNow)[0].answering_options);
  // A new REGISTER over a flow proves it works again.
  ASSERT_TRUE(table.apply(update("a", 2, {contact("sip:10@10.0.0.5", 60)}), kNow, changes));
  EXPECT_TRUE(table.of("10")[0].answering_options);
}

TEST(FlowUri, BuildsFromSourceAndTransport) {
  Binding b;
  b.source = "192.0.2.7:40000";
  b.transport = "udp";
  EXPECT_EQ(flow_uri(b), "sip:192.0.2.7:40000;transport=udp");
  b.source = "fd00::7:5060";
  b.transport = "tcp";
  EXPECT_EQ(flow_uri(b), "sip:[fd00::7]:5060;transport=tcp");
}

TEST(ContactHostPort, StripsUserAndParameters) {
  EXPECT_EQ(contact_host_port("sip:10@192.168.1.20:5060;ob"), "192.168.1.20:5060");
  EXPECT_EQ(contact_host_port("sip:192.168.1.20"), "192.168.1.20");
}

}  // namespace
}  // namespace b2bua::registrar
