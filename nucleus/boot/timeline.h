// The boot timeline: each bring-up step records the cycle counter when it finished.
// Printed by the console's `timeline` command in microseconds since nucleus entry.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace umka::timeline {

struct Step {
    const char* name;
    uint64_t cycles;  // counter value at the end of the step
};

void set_entry(uint64_t cycles);
uint64_t entry_cycles();
// Records the end of a step; also logs it once the clock is calibrated.
void mark(const char* name);
size_t count();
const Step& step(size_t index);

}  // namespace umka::timeline
