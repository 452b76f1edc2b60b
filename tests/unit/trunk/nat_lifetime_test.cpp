// The NAT lifetime search (lifetime_search.h) against simulated NATs: a probe of wait T is alive
// when the NAT keeps mappings longer than T. The clock is the sum of the round lengths the
// driver would spend (each round lasts until its first dead probe is known, or its last wait),
// and the STUN codec (stun_message.h) with messages laid out as RFC 8489 and RFC 5780 say.
#include <gtest/gtest.h>

#include <cstring>

#include "b2bua/trunk/lifetime_search.h"
#include "b2bua/trunk/nat_lifetime.h"
#include "b2bua/trunk/stun_message.h"

namespace b2bua::trunk {
namespace {

struct SearchRun {
  unsigned lifetime_ms = 0;
  bool at_least = false;
  bool control_failed = false;
  unsigned rounds = 0;
  unsigned probes = 0;
  unsigned elapsed_ms = 0;  // the fake clock
};

// `nat_ms`: how long the simulated NAT keeps an idle mapping; `answers_elsewhere`: false for a
// server that cannot answer to another port (every probe, the control too, is unanswered).
SearchRun search(unsigned nat_ms, bool answers_elsewhere = true) {
  LifetimeSearch s;
  SearchRun r;
  for (auto waits = s.next_round(); !waits.empty(); waits = s.next_round()) {
    ++r.rounds;
    unsigned round_ms = 0;
    for (unsigned w : waits) {
      ++r.probes;
      bool alive = answers_elsewhere && w < nat_ms;
      s.record(w, alive);
      // An alive verdict comes one round trip after the wait; a dead one after the answer
      // bound and the confirmation.
      round_ms = w + (alive ? 10 : 2 * NatLifetime::kAnswerBoundMs);
      if (!alive) break;
    }
    s.round_over();
    r.elapsed_ms += round_ms;
    EXPECT_LE(r.rounds, LifetimeSearch::kMaxRounds) << "search does not end";
    if (r.rounds > LifetimeSearch::kMaxRounds) break;
  }
  EXPECT_TRUE(s.finished());
  r.lifetime_ms = s.lifetime_ms();
  r.at_least = s.at_least();
  r.control_failed = s.control_failed();
  return r;
}

TEST(LifetimeSearch, FindsTheLifetimeWithinATenthNeverAboveIt) {
  for (unsigned nat_s : {13u, 15u, 20u, 30u, 45u, 60u, 90u, 120u, 149u}) {
    SearchRun r = search(nat_s * 1000);
    SCOPED_TRACE("nat " + std::to_string(nat_s) + " s");
    EXPECT_FALSE(r.control_failed);
    EXPECT_FALSE(r.at_least);
    EXPECT_LT(r.lifetime_ms, nat_s * 1000) << "a measurement above the real lifetime is unsafe";
    EXPECT_GE(r.lifetime_ms, nat_s * 1000 * 9 / 10 - 1000);
  }
}

TEST(LifetimeSearch, CostsAboutTwoLifetimes) {
  // Waits run side by side: the cost is the lifetime's bracket per round, not a sum of waits.
  SearchRun r15 = search(15000);
  EXPECT_LE(r15.elapsed_ms, 60000u);
  EXPECT_LE(r15.rounds, 3u);
  SearchRun r60 = search(60000);
  EXPECT_LE(r60.elapsed_ms, 170000u);
  EXPECT_LE(r60.rounds, 3u);
}

TEST(LifetimeSearch, ANatThatOutlivesTheLongestWaitIsALowerBound) {
  SearchRun r = search(3600000);
  EXPECT_TRUE(r.at_least);
  EXPECT_EQ(r.lifetime_ms, LifetimeSearch::kMaxWaitMs);
  EXPECT_EQ(r.rounds, 1u);
  EXPECT_EQ(keepalive_for_lifetime(r.lifetime_ms), kMaxKeepaliveS);
}

TEST(LifetimeSearch, ANatShorterThanTheFirstWaitIsStillBracketed) {
  SearchRun r = search(8000);
  EXPECT_FALSE(r.control_failed);
  EXPECT_LT(r.lifetime_ms, 8000u);
  EXPECT_GE(r.lifetime_ms, 6000u);
}

TEST(LifetimeSearch, AServerThatCannotAnswerElsewhereFailsTheControlAtOnce) {
  SearchRun r = search(60000, false);
  EXPECT_TRUE(r.control_failed);
  EXPECT_EQ(r.rounds, 1u);
  EXPECT_EQ(r.probes, 1u) << "the round ends at the dead control probe";
  EXPECT_LE(r.elapsed_ms, 2 * NatLifetime::kAnswerBoundMs);
}

TEST(LifetimeSearch, AWanderingTimerEndsTheSearchConservatively) {
  LifetimeSearch s;
  s.next_round();
  s.record(0, true);
  s.record(12000, true);
  s.record(15000, false);
  s.round_over();
  // The next round's first probe dies although 12 s lived before... and a later one lives.
  s.record(12750, true);
  s.record(13500, false);
  s.round_over();
  EXPECT_TRUE(s.finished());
  EXPECT_EQ(s.lifetime_ms(), 12750u);
  LifetimeSearch w;
  w.record(0, true);
  w.record(20000, true);
  w.record(18000, false);
  EXPECT_TRUE(w.finished());
  EXPECT_EQ(w.lifetime_ms(), 18000u);
}

TEST(LifetimeSearch, FirstRoundStartsWithTheControlAndEndsAtTheLongestWait) {
  LifetimeSearch s;
  auto waits = s.next_round();
  ASSERT_GE(waits.size(), 3u);
  EXPECT_EQ(waits.front(), 0u);
  EXPECT_EQ(waits[1], LifetimeSearch::kMinWaitMs);
  EXPECT_EQ(waits.back(), LifetimeSearch::kMaxWaitMs);
  for (size_t i = 1; i < waits.size(); ++i) EXPECT_GT(waits[i], waits[i - 1]);
}

TEST(KeepaliveForLifetime, EightyPercentWithinTenAndOneHundredTwenty) {
  EXPECT_EQ(keepalive_for_lifetime(15000), 12u);
  EXPECT_EQ(keepalive_for_lifetime(58000), 46u);
  EXPECT_EQ(keepalive_for_lifetime(30000), 24u);
  EXPECT_EQ(keepalive_for_lifetime(12500), 10u);
  EXPECT_EQ(keepalive_for_lifetime(150000), 120u);
  EXPECT_EQ(keepalive_for_lifetime(600000), 120u);
  // Below 12.5 s ten seconds would not be safe: 80% down to the config's 5 s floor.
  EXPECT_EQ(keepalive_for_lifetime(11000), 8u);
  EXPECT_EQ(keepalive_for_lifetime(3000), 5u);
}

TEST(StunMessage, BindingRequestWithResponsePort) {
  StunTransactionId id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(i + 1);
  auto plain = stun_binding_request(id);
  ASSERT_EQ(plain.size(), 20u);
  EXPECT_EQ(plain[0], 0x00);
  EXPECT_EQ(plain[1], 0x01);
  EXPECT_EQ(plain[3], 0x00);  // no attributes
  EXPECT_EQ(plain[4], 0x21);
  EXPECT_EQ(plain[7], 0x42);
  EXPECT_EQ(0, std::memcmp(plain.data() + 8, id.data(), 12));
  auto rp = stun_binding_request(id, 40000);
  ASSERT_EQ(rp.size(), 28u);
  EXPECT_EQ(rp[3], 8);                              // one attribute of 4 bytes
  EXPECT_EQ(rp[20], 0x00);                          // RESPONSE-PORT 0x0027
  EXPECT_EQ(rp[21], 0x27);
  EXPECT_EQ(rp[23], 4);
  EXPECT_EQ((rp[24] << 8) | rp[25], 40000);
  EXPECT_EQ(rp[26] | rp[27], 0);                    // padding
}

// A success response as coturn sends it: XOR-MAPPED-ADDRESS 203.0.113.2:40000, MAPPED-ADDRESS,
// and OTHER-ADDRESS 198.51.100.11:3479 when it runs with two addresses.
std::vector<uint8_t> coturn_answer(const StunTransactionId& id, bool other) {
  std::vector<uint8_t> m;
  m.reserve(64);
  for (uint8_t b : {0x01, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42}) m.push_back(b);
  for (uint8_t b : id) m.push_back(b);
  auto attr = [&](uint16_t type, std::vector<uint8_t> v) {
    m.push_back(static_cast<uint8_t>(type >> 8));
    m.push_back(static_cast<uint8_t>(type));
    m.push_back(0);
    m.push_back(static_cast<uint8_t>(v.size()));
    m.insert(m.end(), v.begin(), v.end());
  };
  uint16_t xport = 40000 ^ 0x2112;
  attr(0x0020, {0, 1, static_cast<uint8_t>(xport >> 8), static_cast<uint8_t>(xport), 203 ^ 0x21, 0 ^ 0x12,
                113 ^ 0xA4, 2 ^ 0x42});
  attr(0x0001, {0, 1, 40000 >> 8, 40000 & 0xff, 203, 0, 113, 2});
  if (other) attr(0x802C, {0, 1, 3479 >> 8, 3479 & 0xff, 198, 51, 100, 11});
  size_t len = m.size() - 20;
  m[2] = static_cast<uint8_t>(len >> 8);
  m[3] = static_cast<uint8_t>(len);
  return m;
}

TEST(StunMessage, ParsesMappedAndOtherAddress) {
  auto id = new_stun_transaction();
  auto m = coturn_answer(id, true);
  auto r = parse_stun_response(m.data(), m.size());
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->success);
  EXPECT_EQ(r->id, id);
  ASSERT_TRUE(r->mapped);
  EXPECT_EQ(r->mapped->str(), "203.0.113.2:40000");
  ASSERT_TRUE(r->other);
  EXPECT_EQ(r->other->str(), "198.51.100.11:3479");
  auto single = coturn_answer(id, false);
  auto s = parse_stun_response(single.data(), single.size());
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->other) << "a server without RFC 5780 support names no other address";
}

TEST(StunMessage, RefusesWhatIsNoBindingResponse) {
  auto id = new_stun_transaction();
  auto m = coturn_answer(id, true);
  auto truncated = m;
  truncated.resize(30);
  EXPECT_FALSE(parse_stun_response(truncated.data(), truncated.size()));
  auto request = stun_binding_request(id);
  EXPECT_FALSE(parse_stun_response(request.data(), request.size()));
  const char sip[] = "\r\n\r\nOPTIONS sip:x SIP/2.0\r\n";
  EXPECT_FALSE(parse_stun_response(reinterpret_cast<const uint8_t*>(sip), sizeof sip - 1));
  auto bad_cookie = m;
  bad_cookie[4] = 0;
  EXPECT_FALSE(parse_stun_response(bad_cookie.data(), bad_cookie.size()));
}

}  // namespace
}  // namespace b2bua::trunk
