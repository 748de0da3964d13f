#include "nucleus/smp/rendezvous.h"

#include <arch/cpu.h>
#include <arch/interrupts.h>

#include <atomic>

#include "nucleus/lib/spinlock.h"
#include "nucleus/smp/cpu_table.h"
#include "nucleus/time/clock.h"

namespace umka::smp {
namespace {

// Lock order: rendezvous_lock is taken first and held for the whole call; nothing inside
// takes another lock except the console lock for output.
constinit SpinLock rendezvous_lock{LockLevel::Rendezvous};

struct Call {
    CpuFunction function = nullptr;
    void* argument = nullptr;
    RendezvousMode mode = RendezvousMode::RunEverywhere;
    std::atomic<bool> active{false};  // a CPU signalled after a timed-out call returns at once
    std::atomic<uint32_t> arrived{0};
    std::atomic<uint32_t> released{0};  // generation counter for HoldUntilReleased
};
constinit Call current_call;

constexpr uint64_t kGatherTimeoutMicroseconds = 1000000;

}  // namespace

void handle_rendezvous_interrupt() {
    Call& call = current_call;
    if (!call.active.load(std::memory_order_acquire)) return;
    if (call.mode == RendezvousMode::RunEverywhere) {
        call.function(call.argument);
        call.arrived.fetch_add(1, std::memory_order_acq_rel);
        return;
    }
    uint32_t generation = call.released.load(std::memory_order_acquire);
    // Published before arriving: the initiator's function may walk this CPU's stack
    // (sched::scan_paused), which stays as it is until the release.
    Cpu& self = cpu_table().current();
    self.held_frame.store(uint64_t(__builtin_frame_address(0)), std::memory_order_release);
    call.arrived.fetch_add(1, std::memory_order_acq_rel);
    while (call.released.load(std::memory_order_acquire) == generation) arch::cpu_relax();
    self.held_frame.store(0, std::memory_order_release);
}

Result<RendezvousResult> rendezvous(RendezvousMode mode, CpuFunction function, void* argument) {
    if (function == nullptr) return Errno::InvalidArgument;
    SpinLockGuard guard(rendezvous_lock);
    CpuTable& cpus = cpu_table();
    Cpu& self = cpus.current();

    Call& call = current_call;
    call.function = function;
    call.argument = argument;
    call.mode = mode;
    call.arrived.store(0, std::memory_order_release);
    call.active.store(true, std::memory_order_release);

    uint64_t start = arch::read_cycle_counter();
    uint32_t signalled = 0;
    for (Cpu& cpu : cpus) {
        if (&cpu == &self || cpu.state.load(std::memory_order_acquire) != CpuState::Online)
            continue;
        arch::send_rendezvous_interrupt(cpu.hardware_id);
        ++signalled;
    }
    if (mode == RendezvousMode::RunEverywhere) function(argument);

    uint64_t timeout = clock::microseconds_to_cycles(kGatherTimeoutMicroseconds);
    while (call.arrived.load(std::memory_order_acquire) < signalled) {
        if (arch::read_cycle_counter() - start > timeout) {
            call.active.store(false, std::memory_order_release);
            call.released.fetch_add(1, std::memory_order_acq_rel);
            return Errno::TimedOut;
        }
        arch::cpu_relax();
    }
    uint64_t gathered = arch::read_cycle_counter();
    if (mode == RendezvousMode::HoldUntilReleased) function(argument);
    call.active.store(false, std::memory_order_release);
    call.released.fetch_add(1, std::memory_order_acq_rel);
    return RendezvousResult{signalled + 1, gathered - start, arch::read_cycle_counter() - start};
}

}  // namespace umka::smp
