// Lockdep-lite: each CPU keeps the levels of the spin locks it holds (nucleus/lib/
// lock_level.h) and every acquisition is checked against them before it spins, so taking
// locks out of the documented order stops at once with both locks named, instead of
// deadlocking one day under load. A CPU's own state needs no lock: it changes only with
// interrupts masked, on that CPU.
//
// On in host builds and in the checked kernel (nucleus-checked.elf, or nucleus.elf with the
// CMake option UMKA_LOCK_CHECKS); in the release kernel every call here compiles to nothing.
#pragma once

#include <stdint.h>

#include "nucleus/lib/lock_level.h"

#if !defined(UMKA_LOCK_CHECKS)
#if defined(UMKA_KERNEL)
#define UMKA_LOCK_CHECKS 0
#else
#define UMKA_LOCK_CHECKS 1
#endif
#endif

namespace umka::lock_checks {

// CPUs with a larger index run unchecked in the kernel (host threads are not limited).
constexpr uint32_t kCheckedCpus = 64;

struct Site {
    const char* file;
    unsigned line;
};

#if UMKA_LOCK_CHECKS

inline constexpr bool kEnabled = true;

// Before spinning for `lock` on CPU `cpu`: a VERIFY failure if the order is broken.
void acquire(const void* lock, LockLevel level, uint16_t ordinal, uint32_t cpu, Site site);
// Before giving `lock` up: a VERIFY failure if this CPU does not hold it.
void release(const void* lock, LockLevel level, uint32_t cpu, Site site);
// A VERIFY failure if `cpu` holds any spin lock: before it leaves a task (a context
// switch) or takes a lock that may sleep. `what` completes "holding <lock> across ...".
void verify_nothing_held(uint32_t cpu, const char* what, Site site);
// How many entries this CPU's record has (a run of nested run-queue locks is one).
uint32_t held_count(uint32_t cpu);

#else

inline constexpr bool kEnabled = false;

inline void acquire(const void*, LockLevel, uint16_t, uint32_t, Site) {}
inline void release(const void*, LockLevel, uint32_t, Site) {}
inline void verify_nothing_held(uint32_t, const char*, Site) {}
inline uint32_t held_count(uint32_t) {
    return 0;
}

#endif

}  // namespace umka::lock_checks
