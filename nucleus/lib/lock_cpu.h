// What a spin lock needs from the CPU it runs on: masking interrupts and the CPU's index.
// In the kernel these are the architecture's (arch/cpu.h). In host builds every thread is
// a CPU of its own and there are no interrupts to mask, so the same lock code (and its
// checks) runs under googletest.
#pragma once

#include <arch/cpu.h>
#include <stdint.h>

#include <atomic>

#if !defined(UMKA_KERNEL)
#include <sched.h>
#endif

namespace umka::lock_cpu {

#if defined(UMKA_KERNEL)

inline arch::InterruptState disable_interrupts() {
    return arch::save_and_disable_interrupts();
}
inline void restore_interrupts(arch::InterruptState state) {
    arch::restore_interrupts(state);
}
inline uint32_t index() {
    return arch::current_cpu_index();
}
inline void relax() {
    arch::cpu_relax();
}

#else

inline arch::InterruptState disable_interrupts() {
    return arch::InterruptState::Disabled;
}
inline void restore_interrupts(arch::InterruptState) {}
inline uint32_t index() {
    static std::atomic<uint32_t> next{0};
    thread_local uint32_t mine = next.fetch_add(1, std::memory_order_relaxed);
    return mine;
}
// A host thread waiting for a lock gives its core up: the holder may be a thread the host
// descheduled, and a ticket lock's next in line may be too.
inline void relax() {
    sched_yield();
}

#endif

}  // namespace umka::lock_cpu
