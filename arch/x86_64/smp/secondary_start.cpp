// Starting secondary CPUs with INIT-SIPI-SIPI (Intel SDM Vol. 3A, 9.4.4), one at a time:
// the trampoline's parameter block is shared, so the next CPU is signalled only after the
// previous one has checked in (or timed out).
#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/memory.h>

#include "arch/x86_64/apic/local_apic.h"
#include "arch/x86_64/cpu/traps.h"
#include "arch/x86_64/cpu/x86.h"
#include "nucleus/smp/cpu_table.h"
#include "nucleus/smp/secondary.h"

extern "C" {
extern const char ap_trampoline_start[], ap_trampoline_end[], ap_trampoline_parameters[];
extern const char boot_pml4[];
void ap_entry64();
}

namespace umka::arch {
namespace {

constexpr uint64_t kTrampolinePhysical = 0x8000;
constexpr uint64_t kKernelStackBytes = 64 * 1024;
constexpr uint64_t kInitSettleMicroseconds = 10;

struct [[gnu::packed]] TrampolineParameters {
    uint32_t boot_table;
    uint32_t efer_bits;
    uint64_t entry;
    uint64_t stack_top;
    uint64_t cpu;
    uint64_t kernel_table;
};

TrampolineParameters* install_trampoline(Status& status) {
    size_t length = size_t(ap_trampoline_end - ap_trampoline_start);
    Result<void*> page = map_physical(kTrampolinePhysical, length, DeviceAccess::ReadWriteUncached);
    if (page.is_error()) {
        status = page.status();
        return nullptr;
    }
    __builtin_memcpy(page.value(), ap_trampoline_start, length);
    status = Status::ok();
    return reinterpret_cast<TrampolineParameters*>(
        static_cast<char*>(page.value()) + (ap_trampoline_parameters - ap_trampoline_start));
}

}  // namespace

Status start_secondary_cpu(Cpu& cpu) {
    Status status;
    TrampolineParameters* parameters = install_trampoline(status);
    if (parameters == nullptr) return status;
    uint64_t stack_top = TRY(allocate_kernel_stack(kKernelStackBytes));
    cpu.arch.kernel_stack_top = stack_top;

    uint64_t efer = x86::read_msr(x86::kMsrEfer);
    parameters->boot_table = uint32_t(reinterpret_cast<uint64_t>(boot_pml4));
    parameters->efer_bits = uint32_t((1u << 8) | (efer & x86::kEferNoExecuteEnable));
    parameters->entry = reinterpret_cast<uint64_t>(&ap_entry64);
    parameters->stack_top = stack_top;
    parameters->cpu = reinterpret_cast<uint64_t>(&cpu);
    parameters->kernel_table = kernel_root_table();
    asm volatile("mfence" ::: "memory");

    uint8_t vector = uint8_t(kTrampolinePhysical >> 12);
    local_apic::send(cpu.hardware_id, local_apic::Delivery::Init, 0);
    // The MP specification's 10 ms INIT settle time is for external-APIC 486-era parts;
    // every x86-64 processor (and QEMU's models) accepts the SIPI right away, as Linux
    // assumes for family 6+ and AMD 0xF+. A short pause keeps the two IPIs ordered.
    delay_microseconds(kInitSettleMicroseconds);
    local_apic::send(cpu.hardware_id, local_apic::Delivery::StartUp, vector);
    // A second SIPI only if the first did not take (SDM's sequence sends two).
    for (int wait = 0; wait < 200; ++wait) {
        if (cpu.state.load(std::memory_order_acquire) != CpuState::Starting) return Status::ok();
        delay_microseconds(1);
    }
    local_apic::send(cpu.hardware_id, local_apic::Delivery::StartUp, vector);
    return Status::ok();
}

}  // namespace umka::arch

extern "C" [[noreturn]] void arch_secondary_cpu_entry(umka::Cpu* cpu) {
    using namespace umka;
    arch::set_current_cpu(cpu);
    if (arch::load_cpu_descriptors(*cpu).is_error()) {
        cpu->state.store(CpuState::Failed, std::memory_order_release);
        arch::halt_forever();
    }
    arch::initialize_secondary_interrupt_controller();
    arch::start_secondary_periodic_timer();
    secondary_cpu_main(*cpu);
}
