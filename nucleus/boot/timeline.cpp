#include "nucleus/boot/timeline.h"

#include <arch/cpu.h>

namespace umka::timeline {
namespace {
// Bring-up has a fixed, short list of steps; more are dropped rather than overflowing.
constexpr size_t kCapacity = 64;
constinit Step steps[kCapacity] = {};
constinit size_t step_count = 0;
constinit uint64_t entry = 0;
}  // namespace

void set_entry(uint64_t cycles) {
    entry = cycles;
}
uint64_t entry_cycles() {
    return entry;
}

void mark(const char* name) {
    if (step_count < kCapacity) steps[step_count++] = Step{name, arch::read_cycle_counter()};
}

size_t count() {
    return step_count;
}
const Step& step(size_t index) {
    return steps[index];
}

}  // namespace umka::timeline
