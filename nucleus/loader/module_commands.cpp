// `measure caps`: the in-guest cost of a capability lookup (a workload command, moving to a
// module with the others).
#include <arch/cpu.h>

#include "nucleus/lib/format.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/loader/ring_bindings.h"
#include "nucleus/time/clock.h"

namespace umka::loader {

void measure_capability_lookup(console::TextOutput& out) {
    ModuleSystem& system = module_system();
    modules::CapabilityHandle handle{};
    for (size_t index = 0; system.initialized() && index < system.record_count(); ++index) {
        const ModuleRecord& record = system.record(index);
        if (record.state == ModuleState::Loaded && record.binding->binding.required_count > 0) {
            handle = modules::CapabilityHandle{record.binding->required[0].capability};
            break;
        }
    }
    if (handle.value == 0) {
        out.print("measure: no loaded module holds a capability to look up\n");
        return;
    }
    constexpr uint64_t kRounds = 100000;
    // Baseline: the cheapest possible "lookup", a load from a table by index.
    volatile uint64_t table[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint64_t sink = 0;
    uint64_t start = arch::read_cycle_counter();
    for (uint64_t round = 0; round < kRounds; ++round) sink += table[round & 7];
    uint64_t baseline = arch::read_cycle_counter() - start;
    start = arch::read_cycle_counter();
    for (uint64_t round = 0; round < kRounds; ++round) {
        modules::CapabilityInfo info{};
        sink += uint64_t(system.capabilities().check(handle, modules::Rights::Call, &info));
        asm volatile("" ::"r"(info.object) : "memory");
    }
    uint64_t lookups = arch::read_cycle_counter() - start;
    asm volatile("" ::"r"(sink));
    uint64_t baseline_centi = baseline * 100 / kRounds;
    uint64_t lookup_centi = lookups * 100 / kRounds;
    out.print(
        "capability lookup: %lu.%02lu cycles; array-index baseline %lu.%02lu cycles; "
        "ratio %lu.%02lux (%lu rounds each)\n",
        lookup_centi / 100, lookup_centi % 100, baseline_centi / 100, baseline_centi % 100,
        baseline_centi ? lookup_centi / baseline_centi : 0,
        baseline_centi ? lookup_centi * 100 / baseline_centi % 100 : 0, kRounds);
}

}  // namespace umka::loader
