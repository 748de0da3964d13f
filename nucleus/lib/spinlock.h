// A ticket spinlock that also masks interrupts on the holding CPU, so an interrupt handler
// on the same CPU can never deadlock against the code it interrupted.
//
// Each lock has a level (lock_level.h, the order of docs/nucleus.md) and records the CPU
// that holds it, one word stored on lock and cleared on unlock, so code that needs a lock
// held can say so with assert_held(). The order itself is checked by lock_checks.h where
// it is enabled. A lock is never held across a wait.
#pragma once

#include <stdint.h>

#include <atomic>

#include "nucleus/lib/lock_checks.h"
#include "nucleus/lib/lock_cpu.h"
#include "nucleus/lib/lock_level.h"
#include "nucleus/lib/verify.h"

namespace umka {

class SpinLock {
public:
    // `ordinal` orders locks of a level that nests with itself (a run queue's CPU index).
    constexpr explicit SpinLock(LockLevel level, uint16_t ordinal = 0)
        : level_(level), ordinal_(ordinal) {}
    SpinLock(const SpinLock&) = delete;
    SpinLock& operator=(const SpinLock&) = delete;

    arch::InterruptState lock(const char* file = __builtin_FILE(),
                              unsigned line = __builtin_LINE()) {
        arch::InterruptState state = lock_cpu::disable_interrupts();
        uint32_t self = lock_cpu::index();
        lock_checks::acquire(this, level_, ordinal_, self, {file, line});
        uint32_t ticket = next_.fetch_add(1, std::memory_order_relaxed);
        while (serving_.load(std::memory_order_acquire) != ticket) lock_cpu::relax();
        owner_.store(self + 1, std::memory_order_relaxed);
        return state;
    }

    void unlock(arch::InterruptState state, const char* file = __builtin_FILE(),
                unsigned line = __builtin_LINE()) {
        if constexpr (lock_checks::kEnabled) {
            uint32_t self = lock_cpu::index();
            if (owner_.load(std::memory_order_relaxed) != self + 1) not_held(file, line, self);
            lock_checks::release(this, level_, self, {file, line});
        }
        owner_.store(0, std::memory_order_relaxed);
        serving_.fetch_add(1, std::memory_order_release);
        lock_cpu::restore_interrupts(state);
    }

    // Only the holder's own view is exact: another CPU may see a stale owner.
    bool held_by_this_cpu() const {
        return owner_.load(std::memory_order_relaxed) == lock_cpu::index() + 1;
    }

    // For functions that must be called with this lock held.
    void assert_held(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) const {
        uint32_t self = lock_cpu::index();
        if (__builtin_expect(owner_.load(std::memory_order_relaxed) != self + 1, 0)) {
            not_held(file, line, self);
        }
    }

    LockLevel level() const { return level_; }

private:
    [[noreturn, gnu::cold]] void not_held(const char* file, unsigned line, uint32_t self) const {
        uint32_t owner = owner_.load(std::memory_order_relaxed);
        const char* name = lock_level_name(level_);
        const void* lock = this;
        if (owner == 0) {
            umka_verify_failed(detail::file_name_of(file), line,
                               "%s lock %p is not held by cpu %u (it is free)", name, lock, self);
        }
        umka_verify_failed(detail::file_name_of(file), line,
                           "%s lock %p is not held by cpu %u (held by cpu %u)", name, lock, self,
                           owner - 1);
    }

    std::atomic<uint32_t> next_{0};
    std::atomic<uint32_t> serving_{0};
    std::atomic<uint32_t> owner_{0};  // holding CPU's index + 1; 0 when free
    LockLevel level_;
    uint16_t ordinal_;
};

// Where the lock checks are on: a VERIFY failure if this CPU holds any spin lock, before
// it leaves the running task or takes a lock that may sleep (`what` names that).
inline void verify_no_spin_lock_held(const char* what, const char* file = __builtin_FILE(),
                                     unsigned line = __builtin_LINE()) {
    if constexpr (lock_checks::kEnabled) {
        lock_checks::verify_nothing_held(lock_cpu::index(), what, {file, line});
    }
}

class SpinLockGuard {
public:
    explicit SpinLockGuard(SpinLock& lock, const char* file = __builtin_FILE(),
                           unsigned line = __builtin_LINE())
        : lock_(lock), state_(lock.lock(file, line)) {}
    ~SpinLockGuard() { lock_.unlock(state_); }
    SpinLockGuard(const SpinLockGuard&) = delete;
    SpinLockGuard& operator=(const SpinLockGuard&) = delete;

private:
    SpinLock& lock_;
    arch::InterruptState state_;
};

}  // namespace umka
