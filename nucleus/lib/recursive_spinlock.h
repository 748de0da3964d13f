// A spinlock the holding CPU may take again (the depth is counted), masking interrupts
// like SpinLock. For a writer lock around code that calls back into code taking the same
// lock on the same CPU: binding a module (its entry point may allocate module memory) while
// the capability table's writers are serialised. Taking it again is not checked against
// the lock order (it cannot deadlock); the first acquisition is.
#pragma once

#include <stdint.h>

#include "nucleus/lib/spinlock.h"

namespace umka {

class RecursiveSpinLock {
public:
    constexpr explicit RecursiveSpinLock(LockLevel level) : inner_(level) {}

    arch::InterruptState lock(const char* file = __builtin_FILE(),
                              unsigned line = __builtin_LINE()) {
        arch::InterruptState state = lock_cpu::disable_interrupts();
        if (!inner_.held_by_this_cpu()) (void)inner_.lock(file, line);
        ++depth_;
        return state;
    }

    void unlock(arch::InterruptState state, const char* file = __builtin_FILE(),
                unsigned line = __builtin_LINE()) {
        inner_.assert_held(file, line);
        if (--depth_ == 0) inner_.unlock(arch::InterruptState::Disabled, file, line);
        lock_cpu::restore_interrupts(state);
    }

    void assert_held(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) const {
        inner_.assert_held(file, line);
    }

private:
    SpinLock inner_;
    uint32_t depth_ = 0;  // changed only by the holder
};

class RecursiveSpinLockGuard {
public:
    explicit RecursiveSpinLockGuard(RecursiveSpinLock& lock, const char* file = __builtin_FILE(),
                                    unsigned line = __builtin_LINE())
        : lock_(lock), state_(lock.lock(file, line)) {}
    ~RecursiveSpinLockGuard() { lock_.unlock(state_); }
    RecursiveSpinLockGuard(const RecursiveSpinLockGuard&) = delete;
    RecursiveSpinLockGuard& operator=(const RecursiveSpinLockGuard&) = delete;

private:
    RecursiveSpinLock& lock_;
    arch::InterruptState state_;
};

}  // namespace umka
