// GDT, TSS and IDT. The IDT is shared; each CPU has its own GDT and TSS because the TSS
// descriptor's busy bit and the interrupt stacks are per CPU.
#include <arch/cpu.h>
#include <arch/memory.h>
#include <arch/memory_domain.h>

#include "arch/x86_64/cpu/traps.h"
#include "arch/x86_64/cpu/x86.h"
#include "nucleus/smp/cpu_table.h"

extern "C" {
extern const uint64_t trap_entry_vectors[];
extern const uint64_t trap_entry_addresses[];
extern const uint64_t trap_entry_count;
}

namespace umka::arch {
namespace {

struct [[gnu::packed]] GateDescriptor {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t interrupt_stack;
    uint8_t type_attributes;
    uint16_t offset_middle;
    uint32_t offset_high;
    uint32_t reserved;
};
static_assert(sizeof(GateDescriptor) == 16);

struct [[gnu::packed]] TablePointer {
    uint16_t limit;
    uint64_t base;
};

constinit GateDescriptor interrupt_table[256] = {};
constexpr uint8_t kInterruptGatePresent = 0x8E;  // present, DPL 0, 64-bit interrupt gate
constexpr size_t kInterruptStackBytes = 16 * 1024;

unsigned interrupt_stack_for(uint64_t vector) {
    switch (vector) {
    case kVectorDoubleFault:
        return kDoubleFaultStack;
    case kVectorNmi:
        return kNmiStack;
    case kVectorMachineCheck:
        return kMachineCheckStack;
    default:
        return 0;
    }
}

// Per-CPU register: the GS base holds the Cpu record (its first field points to itself).
constinit Cpu bootstrap_cpu_record = {};

void load_interrupt_table() {
    TablePointer idt{uint16_t(sizeof(interrupt_table) - 1),
                     reinterpret_cast<uint64_t>(interrupt_table)};
    asm volatile("lidt %0" ::"m"(idt));
}

}  // namespace

// Gates start without interrupt stacks: until a TSS is loaded an IST index would itself
// fault. load_cpu_descriptors moves the critical vectors onto their stacks afterwards.
void initialize_interrupt_table() {
    for (uint64_t entry = 0; entry < trap_entry_count; ++entry) {
        uint64_t vector = trap_entry_vectors[entry];
        uint64_t address = trap_entry_addresses[entry];
        interrupt_table[vector] = GateDescriptor{
            uint16_t(address),       kKernelCodeSelector,     0, kInterruptGatePresent,
            uint16_t(address >> 16), uint32_t(address >> 32), 0};
    }
    load_interrupt_table();
}

void set_current_cpu(Cpu* cpu) {
    if (cpu == nullptr) {
        cpu = &bootstrap_cpu();
    }
    x86::write_msr(x86::kMsrGsBase, reinterpret_cast<uint64_t>(cpu));
}

Cpu& bootstrap_cpu() {
    bootstrap_cpu_record.self = &bootstrap_cpu_record;
    return bootstrap_cpu_record;
}

Status adopt_boot_cpu(Cpu& cpu) {
    cpu.arch = bootstrap_cpu_record.arch;
    return load_cpu_descriptors(cpu);
}

uint32_t current_cpu_index() {
    uint32_t index;
    asm volatile("movl %%gs:%c1, %0" : "=r"(index) : "i"(__builtin_offsetof(Cpu, index)));
    return index;
}

Status load_cpu_descriptors(Cpu& cpu) {
    ArchCpu& local = cpu.arch;
    for (unsigned slot = 1; slot <= 3; ++slot) {
        if (local.task_state.interrupt_stacks[slot - 1] != 0) continue;  // adopted
        uint64_t top = TRY(allocate_kernel_stack(kInterruptStackBytes));
        local.task_state.interrupt_stacks[slot - 1] = top;
    }
    local.task_state.io_map_base = sizeof(TaskStateSegment);

    uint64_t base = reinterpret_cast<uint64_t>(&local.task_state);
    uint64_t limit = sizeof(TaskStateSegment) - 1;
    local.descriptor_table[0] = 0;
    local.descriptor_table[1] = 0x00AF9A000000FFFFull;  // 64-bit code
    local.descriptor_table[2] = 0x00CF92000000FFFFull;  // data
    local.descriptor_table[3] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
                                (0x89ull << 40) |  // present, 64-bit available TSS
                                (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    local.descriptor_table[4] = base >> 32;

    TablePointer gdt{uint16_t(sizeof(local.descriptor_table) - 1),
                     reinterpret_cast<uint64_t>(local.descriptor_table)};
    asm volatile(
        "lgdt %0\n"
        "pushq %1\n"
        "leaq 1f(%%rip), %%rax\n"
        "pushq %%rax\n"
        "lretq\n"
        "1:\n"
        "mov %2, %%ds\n"
        "mov %2, %%es\n"
        "mov %2, %%ss\n"
        :
        : "m"(gdt), "i"(uint64_t(kKernelCodeSelector)), "r"(uint16_t(kKernelDataSelector))
        : "rax", "memory");
    asm volatile("ltr %0" ::"r"(kTaskStateSelector));

    // Every CPU writes the same values, so updating the shared table here is idempotent.
    for (uint64_t vector : {kVectorNmi, kVectorDoubleFault, kVectorMachineCheck}) {
        interrupt_table[vector].interrupt_stack = uint8_t(interrupt_stack_for(vector));
    }
    load_interrupt_table();
    // Protection keys in force from here (all rights until a module's code runs).
    if (memory_domains_supported()) enable_memory_domains();
    // lgdt/segment reloads clear nothing in GS base, but set it last for clarity.
    set_current_cpu(&cpu);
    return Status::ok();
}

}  // namespace umka::arch
