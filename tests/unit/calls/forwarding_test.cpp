#include "b2bua/calls/forwarding.h"

#include <gtest/gtest.h>

namespace b2bua::calls {
namespace {

config::Extension extension(int max_calls = 2) {
  config::Extension e;
  e.number = "10";
  e.max_calls = max_calls;
  return e;
}

TEST(Forwarding, RingsWhenNothingApplies) {
  EXPECT_EQ(deliver_to(extension(), {}, {}).kind, Delivery::ring);
}

TEST(Forwarding, UnconditionalWinsOverEverything) {
  ExtensionSettings::Effective s;
  s.forward.always = "11";
  s.forward.busy = "12";
  s.dnd = true;
  Delivery d = deliver_to(extension(), s, ExtensionNow{.registered = false, .active_calls = 5});
  EXPECT_EQ(d.kind, Delivery::forward);
  EXPECT_EQ(d.target, "11");
  EXPECT_STREQ(d.condition, "always");
}

TEST(Forwarding, DoNotDisturbTakesTheBusyRule) {
  ExtensionSettings::Effective s;
  s.dnd = true;
  Delivery d = deliver_to(extension(), s, {});
  EXPECT_EQ(d.kind, Delivery::refuse);
  EXPECT_EQ(d.code, 486);
  EXPECT_STREQ(d.condition, "dnd");
  s.forward.busy = "0301234";
  d = deliver_to(extension(), s, {});
  EXPECT_EQ(d.kind, Delivery::forward);
  EXPECT_EQ(d.target, "0301234");
  EXPECT_STREQ(d.condition, "dnd");
}

TEST(Forwarding, CallWaitingOffMakesAnyCallBusy) {
  ExtensionSettings::Effective s;
  ExtensionNow in_a_call{.registered = true, .active_calls = 1};
  EXPECT_EQ(deliver_to(extension(), s, in_a_call).kind, Delivery::ring);  // waiting on: the second call rings
  s.call_waiting = false;
  Delivery d = deliver_to(extension(), s, in_a_call);
  EXPECT_EQ(d.kind, Delivery::refuse);
  EXPECT_STREQ(d.condition, "busy");
  EXPECT_EQ(d.code, 486);
}

TEST(Forwarding, MaxCallsMakesBusyEvenWithCallWaiting) {
  ExtensionSettings::Effective s;
  s.forward.busy = "11";
  Delivery d = deliver_to(extension(1), s, ExtensionNow{.registered = true, .active_calls = 1});
  EXPECT_EQ(d.kind, Delivery::forward);
  EXPECT_EQ(d.target, "11");
  EXPECT_STREQ(d.condition, "busy");
}

TEST(Forwarding, UnregisteredRule) {
  ExtensionSettings::Effective s;
  ExtensionNow away{.registered = false, .active_calls = 0};
  Delivery d = deliver_to(extension(), s, away);
  EXPECT_EQ(d.kind, Delivery::refuse);
  EXPECT_EQ(d.code, 480);
  s.forward.unregistered = "11";
  d = deliver_to(extension(), s, away);
  EXPECT_EQ(d.kind, Delivery::forward);
  EXPECT_STREQ(d.condition, "unregistered");
  // No-answer forwarding needs a phone that rings: it does not apply to an absent one.
  s.forward.unregistered.reset();
  s.forward.no_answer = "12";
  EXPECT_EQ(deliver_to(extension(), s, away).kind, Delivery::refuse);
}

}  // namespace
}  // namespace b2bua::calls
