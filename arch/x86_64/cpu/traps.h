// Trap frames, vectors and the per-CPU descriptor tables (GDT, TSS, IDT).
#pragma once

#include <arch/traps.h>
#include <stdint.h>

#include "nucleus/lib/status.h"

namespace umka {
struct Cpu;
}

namespace umka::arch {

struct TrapFrame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t error_code;
    uint64_t rip, cs, rflags, rsp, ss;  // pushed by the CPU
};

inline constexpr uint8_t kVectorNmi = 2;
inline constexpr uint8_t kVectorDoubleFault = 8;
inline constexpr uint8_t kVectorMachineCheck = 18;
inline constexpr uint8_t kVectorTimer = 32;
inline constexpr uint8_t kVectorRendezvous = 240;
inline constexpr uint8_t kVectorHalt = 241;
inline constexpr uint8_t kVectorReschedule = 242;
inline constexpr uint8_t kVectorSpurious = 255;

inline constexpr uint16_t kKernelCodeSelector = 0x08;
inline constexpr uint16_t kKernelDataSelector = 0x10;
inline constexpr uint16_t kTaskStateSelector = 0x18;

// Reports a fatal trap on the console and halts every CPU.
[[noreturn]] void report_fatal_trap(const TrapFrame& frame);

}  // namespace umka::arch
