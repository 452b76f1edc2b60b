#include "b2bua/calls/record_budget.h"

#include <gtest/gtest.h>

namespace b2bua::calls {
namespace {

using Take = RecordBudget::Take;

TEST(RecordBudget, BurstThenOneASecondAndEachRunReportedOnce) {
  RecordBudget budget(3, 1);
  EXPECT_EQ(budget.take(0), Take::granted);
  EXPECT_EQ(budget.take(0), Take::granted);
  EXPECT_EQ(budget.take(0), Take::granted);
  EXPECT_EQ(budget.take(10), Take::first_suppressed) << "the burst is spent";
  EXPECT_EQ(budget.take(20), Take::suppressed) << "the run is logged once, at its start";
  EXPECT_EQ(budget.suppressed_total(), 2u);
  EXPECT_EQ(budget.take(1010), Take::granted_again) << "a second later one more, and the run ends";
  EXPECT_EQ(budget.take(1020), Take::first_suppressed);
  EXPECT_EQ(budget.take(60'000), Take::granted_again) << "refilled, never beyond the burst";
  EXPECT_EQ(budget.take(60'000), Take::granted);
  EXPECT_EQ(budget.take(60'000), Take::granted);
  EXPECT_EQ(budget.take(60'000), Take::first_suppressed);
}

TEST(RecordBudget, ClockGoingBackDoesNotRefill) {
  RecordBudget budget(1, 1);
  EXPECT_EQ(budget.take(5000), Take::granted);
  EXPECT_EQ(budget.take(1000), Take::first_suppressed);
}

}  // namespace
}  // namespace b2bua::calls
