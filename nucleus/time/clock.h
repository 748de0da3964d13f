// Conversion of cycle-counter readings to time, once arch has calibrated the counter.
#pragma once

#include <stdint.h>

namespace umka::clock {

void set_cycle_frequency(uint64_t hertz);
uint64_t cycle_frequency();  // 0 until calibrated
uint64_t cycles_to_microseconds(uint64_t cycles);
uint64_t cycles_to_nanoseconds(uint64_t cycles);
uint64_t microseconds_to_cycles(uint64_t microseconds);

// Timer ticks since the periodic timer started (boot CPU).
void on_timer_tick();
uint64_t ticks();

}  // namespace umka::clock
