#include "nucleus/smp/secondary.h"

#include <arch/cpu.h>
#include <arch/interrupts.h>

#include "nucleus/lib/log.h"
#include "nucleus/sched/scheduler.h"
#include "nucleus/time/clock.h"

namespace umka {
namespace {
constexpr uint64_t kCheckInTimeoutMicroseconds = 200000;
}

SecondaryStartReport start_secondary_cpus() {
    SecondaryStartReport report{};
    for (Cpu& cpu : cpu_table()) {
        if (cpu.state.load(std::memory_order_acquire) != CpuState::Offline) continue;
        cpu.state.store(CpuState::Starting, std::memory_order_release);
        Status status = arch::start_secondary_cpu(cpu);
        if (status.is_error()) {
            cpu.state.store(CpuState::Failed, std::memory_order_release);
            log("smp: cpu %u (hardware id %u) could not be started: %s\n", cpu.index,
                cpu.hardware_id, errno_name(status.error()));
            ++report.failed;
            continue;
        }
        uint64_t start = arch::read_cycle_counter();
        uint64_t timeout = clock::microseconds_to_cycles(kCheckInTimeoutMicroseconds);
        while (cpu.state.load(std::memory_order_acquire) == CpuState::Starting &&
               arch::read_cycle_counter() - start < timeout) {
            arch::cpu_relax();
        }
        if (cpu.state.load(std::memory_order_acquire) == CpuState::Online) {
            ++report.started;
        } else {
            cpu.state.store(CpuState::Failed, std::memory_order_release);
            log("smp: cpu %u (hardware id %u) did not check in within %lu us\n", cpu.index,
                cpu.hardware_id, kCheckInTimeoutMicroseconds);
            ++report.failed;
        }
    }
    return report;
}

void secondary_cpu_main(Cpu& cpu) {
    cpu.online_cycles = arch::read_cycle_counter();
    cpu.state.store(CpuState::Online, std::memory_order_release);
    // Until the scheduler starts, interrupts (rendezvous signals) are the only work; then
    // this boot context becomes the CPU's idle context.
    for (;;) {
        if (sched::running()) sched::run_idle();
        arch::wait_for_interrupt();
    }
}

}  // namespace umka
