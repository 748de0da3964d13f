// The storm limit (nucleus/interrupts/storm_window.h) over a clock the test moves.
#include "nucleus/interrupts/storm_window.h"

#include <gtest/gtest.h>

namespace umka::interrupts {
namespace {

constexpr uint64_t kMs = 1'000'000;

TEST(StormWindow, BelowTheLimitNothingIsHeld) {
    StormWindow window(5);
    for (uint64_t at = 0; at < 4; ++at) EXPECT_EQ(window.count(at * 100 * kMs), 0u);
    // A new second: the count starts over.
    for (uint64_t at = 0; at < 4; ++at) EXPECT_EQ(window.count(1000 * kMs + at * kMs), 0u);
    EXPECT_EQ(window.storms(), 0u);
}

TEST(StormWindow, TheInterruptThatReachesTheLimitHoldsTheRestOfTheSecond) {
    StormWindow window(5);
    for (uint64_t at = 0; at < 4; ++at) EXPECT_EQ(window.count(10 * kMs + at * kMs), 0u);
    // Window opened at 10 ms: the fifth, at 250 ms, holds the source for 760 ms.
    EXPECT_EQ(window.count(250 * kMs), 760 * kMs);
    EXPECT_EQ(window.storms(), 1u);
    // After the pause a fresh window: four more pass.
    for (uint64_t at = 0; at < 4; ++at) EXPECT_EQ(window.count(1010 * kMs + at), 0u);
    EXPECT_EQ(window.count(1500 * kMs), 510 * kMs);
    EXPECT_EQ(window.storms(), 2u);
}

TEST(StormWindow, ALimitOfOneHoldsEveryInterrupt) {
    StormWindow window(1);
    EXPECT_EQ(window.count(0), StormWindow::kWindowNs);
    EXPECT_EQ(window.count(StormWindow::kWindowNs), StormWindow::kWindowNs);
}

}  // namespace
}  // namespace umka::interrupts
