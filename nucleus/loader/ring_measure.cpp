// `measure ring [N]`: a ring round trip to another CPU against a direct call through the
// same provider's service slot, both in this run, both calling CharDevice.info (no device
// access, so the figure is the transport's).
#include <arch/cpu.h>

#include "nucleus/loader/module_system.h"
#include "nucleus/loader/ring_bindings.h"
#include "nucleus/smp/cpu_table.h"
#include "umka/kabi/char_device.hpp"

namespace umka::loader {
namespace {

namespace chardev = umka::kabi::char_device;

constexpr uint32_t kWarmUpCalls = 64;

// Calls info() `rounds` times through whatever `slot` holds, loading it per call as a
// consumer does; cycles in all, or 0 if a call failed.
uint64_t time_calls(const UmkaServiceSlot* slot, uint64_t rounds) {
    chardev::CharDeviceInfo info{};
    uint64_t start = arch::read_cycle_counter();
    for (uint64_t round = 0; round < rounds; ++round) {
        chardev::CharDeviceRef device;
        if (umka::kabi::bind_service(slot, &device).is_error() || device.info(&info).is_error()) {
            return 0;
        }
    }
    return arch::read_cycle_counter() - start;
}

// Another CPU than `here` that runs no provider thread: the console's provider spins in
// the serial driver's blocking read, and sharing its CPU would measure time slices, not
// the ring. Falls back to the next CPU (or `here` on one CPU).
uint32_t quiet_cpu_besides(uint32_t here) {
    uint32_t count = cpu_table().count();
    for (uint32_t candidate = count; candidate-- > 0;) {
        if (candidate != here && !cpu_runs_ring_provider(candidate)) return candidate;
    }
    return count > 1 ? (here + 1) % count : here;
}

void print_ratio(console::TextOutput& out, uint64_t numerator, uint64_t denominator) {
    uint64_t hundredths = denominator ? numerator * 100 / denominator : 0;
    out.print("%lu.%02lux", hundredths / 100, hundredths % 100);
}

}  // namespace

void measure_ring(uint64_t rounds, console::TextOutput& out) {
    if (!sched::running()) {
        out.print(
            "measure: no scheduler policy module is loaded (a ring needs a provider thread)\n");
        return;
    }
    Result<RingBinding*> created =
        create_ring_binding({"measure", "char_device", "CharDevice", nullptr});
    if (created.is_error()) {
        out.print("measure: no ring binding to char_device.CharDevice (%s)\n",
                  errno_name(created.error()));
        return;
    }
    RingBinding* binding = created.value();
    uint32_t here = arch::current_cpu_index();
    uint32_t there = quiet_cpu_besides(here);
    Status started = start_ring_binding(*binding, sched::Placement::Pinned, there);
    if (started.is_error()) {
        out.print("measure: provider thread not started (%s)\n", errno_name(started.error()));
        close_ring_binding(binding);
        return;
    }
    (void)time_calls(&binding->slot, kWarmUpCalls);
    (void)time_calls(binding->provider_slot, kWarmUpCalls);
    uint64_t ring_cycles = time_calls(&binding->slot, rounds);
    uint64_t direct_cycles = time_calls(binding->provider_slot, rounds);
    ring::RingCounters counters = binding->caller.caller().pair().counters();
    close_ring_binding(binding);
    if (ring_cycles == 0 || direct_cycles == 0) {
        out.print("measure: a CharDevice.info call failed\n");
        return;
    }
    out.print(
        "ring round trip (CharDevice.info, caller cpu %u, provider cpu %u): %lu cycles per "
        "call over %lu calls (%lu doorbells)\n",
        here, there, ring_cycles / rounds, rounds, counters.doorbells);
    out.print("direct call through the service slot: %lu cycles per call; ring/direct ",
              direct_cycles / rounds);
    print_ratio(out, ring_cycles, direct_cycles);
    out.print("\n");
}

}  // namespace umka::loader
