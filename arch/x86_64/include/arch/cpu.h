// The processor operations generic nucleus code may use. Each architecture provides this
// header under arch/<name>/include/arch/; the build selects one at compile time.
#pragma once

#include <stdint.h>

namespace umka::arch {

enum class InterruptState : uint8_t { Disabled, Enabled };

inline void cpu_relax() {
    asm volatile("pause" ::: "memory");
}

// DMA ordering on a cache-coherent bus (x86-64: device accesses snoop the caches, so no
// flush is needed, only ordering). Before the device reads what the CPU wrote: every earlier
// store, write-combining ones included, is globally visible before any later store (the
// doorbell). After the device wrote: no later load is performed before the earlier one
// that saw the device's completion.
inline void dma_barrier_to_device() {
    asm volatile("mfence" ::: "memory");
}
inline void dma_barrier_from_device() {
    asm volatile("lfence" ::: "memory");
}

inline uint64_t read_cycle_counter() {
    uint32_t low, high;
    asm volatile("rdtsc" : "=a"(low), "=d"(high));
    return (uint64_t(high) << 32) | low;
}

inline InterruptState save_and_disable_interrupts() {
    uint64_t flags;
    asm volatile("pushfq; popq %0; cli" : "=r"(flags)::"memory");
    return (flags & (1u << 9)) ? InterruptState::Enabled : InterruptState::Disabled;
}

inline void restore_interrupts(InterruptState state) {
    if (state == InterruptState::Enabled) asm volatile("sti" ::: "memory");
}

inline void enable_interrupts() {
    asm volatile("sti" ::: "memory");
}

// Sleeps until the next interrupt. Enables interrupts atomically with the wait so a wake-up
// between the caller's check and the halt is never lost.
inline void wait_for_interrupt() {
    asm volatile("sti; hlt" ::: "memory");
}

[[noreturn]] inline void halt_forever() {
    for (;;) asm volatile("cli; hlt" ::: "memory");
}

// Index of the executing CPU in the nucleus's CPU table (per-CPU register).
uint32_t current_cpu_index();

// The frame pointer of the caller, for backtraces.
inline uintptr_t current_frame_pointer() {
    return reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
}

}  // namespace umka::arch
