// Per-CPU state the x86-64 layer keeps inside each nucleus Cpu record.
#pragma once

#include <stdint.h>

namespace umka::arch {

struct [[gnu::packed]] TaskStateSegment {
    uint32_t reserved0;
    uint64_t privilege_stacks[3];
    uint64_t reserved1;
    uint64_t interrupt_stacks[7];  // IST1..IST7
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t io_map_base;
};
static_assert(sizeof(TaskStateSegment) == 104);

struct alignas(16) ArchCpu {
    uint64_t descriptor_table[8];  // null, code, data, TSS (two slots), spare
    TaskStateSegment task_state;
    uint64_t kernel_stack_top;
};

// Interrupt stack table slots.
inline constexpr unsigned kDoubleFaultStack = 1;
inline constexpr unsigned kNmiStack = 2;
inline constexpr unsigned kMachineCheckStack = 3;

}  // namespace umka::arch
