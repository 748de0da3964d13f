#include "nucleus/time/clock.h"

#include <atomic>

namespace umka::clock {
namespace {
constinit std::atomic<uint64_t> frequency{0};
constinit std::atomic<uint64_t> tick_count{0};
}  // namespace

void set_cycle_frequency(uint64_t hertz) {
    frequency.store(hertz, std::memory_order_release);
}
uint64_t cycle_frequency() {
    return frequency.load(std::memory_order_acquire);
}

namespace {
// value * numerator / denominator without a 128-bit division (no libgcc in the nucleus).
// Exact while (value % denominator) * numerator fits in 64 bits: for clock rates below
// 10 THz and the scales used here it always does.
uint64_t scale(uint64_t value, uint64_t numerator, uint64_t denominator) {
    return value / denominator * numerator + value % denominator * numerator / denominator;
}
}  // namespace

uint64_t cycles_to_microseconds(uint64_t cycles) {
    uint64_t hertz = cycle_frequency();
    return hertz == 0 ? 0 : scale(cycles, 1000000u, hertz);
}

uint64_t cycles_to_nanoseconds(uint64_t cycles) {
    uint64_t hertz = cycle_frequency();
    return hertz == 0 ? 0 : scale(cycles, 1000000000u, hertz);
}

uint64_t microseconds_to_cycles(uint64_t microseconds) {
    return scale(microseconds, cycle_frequency(), 1000000u);
}

void on_timer_tick() {
    tick_count.fetch_add(1, std::memory_order_relaxed);
}
uint64_t ticks() {
    return tick_count.load(std::memory_order_relaxed);
}

}  // namespace umka::clock
