// A spinlock the holding CPU may take again (the depth is counted), masking interrupts
// like SpinLock. For a writer lock around code that calls back into code taking the same
// lock on the same CPU: binding a module (its entry point may allocate module memory) while
// the capability table's writers are serialised.
#pragma once

#include <arch/cpu.h>
#include <stdint.h>

#include <atomic>

#include "nucleus/lib/spinlock.h"

namespace umka {

class RecursiveSpinLock {
public:
    constexpr RecursiveSpinLock() = default;

    arch::InterruptState lock() {
        arch::InterruptState state = arch::save_and_disable_interrupts();
        uint32_t self = arch::current_cpu_index() + 1;
        if (holder_.load(std::memory_order_relaxed) != self) {
            (void)inner_.lock();
            holder_.store(self, std::memory_order_relaxed);
        }
        ++depth_;
        return state;
    }

    void unlock(arch::InterruptState state) {
        if (--depth_ == 0) {
            holder_.store(0, std::memory_order_relaxed);
            inner_.unlock(arch::InterruptState::Disabled);
        }
        arch::restore_interrupts(state);
    }

private:
    SpinLock inner_;
    std::atomic<uint32_t> holder_{0};  // CPU index + 1; 0 when free
    uint32_t depth_ = 0;
};

class RecursiveSpinLockGuard {
public:
    explicit RecursiveSpinLockGuard(RecursiveSpinLock& lock) : lock_(lock), state_(lock.lock()) {}
    ~RecursiveSpinLockGuard() { lock_.unlock(state_); }
    RecursiveSpinLockGuard(const RecursiveSpinLockGuard&) = delete;
    RecursiveSpinLockGuard& operator=(const RecursiveSpinLockGuard&) = delete;

private:
    RecursiveSpinLock& lock_;
    arch::InterruptState state_;
};

}  // namespace umka
