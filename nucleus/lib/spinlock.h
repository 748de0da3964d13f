// A ticket spinlock that also masks interrupts on the holding CPU, so an interrupt handler
// on the same CPU can never deadlock against the code it interrupted.
// Lock order is documented where locks are declared; a lock is never held across a wait.
#pragma once

#include <arch/cpu.h>
#include <stdint.h>

#include <atomic>

namespace umka {

class SpinLock {
public:
    constexpr SpinLock() = default;

    arch::InterruptState lock() {
        arch::InterruptState state = arch::save_and_disable_interrupts();
        uint32_t ticket = next_.fetch_add(1, std::memory_order_relaxed);
        while (serving_.load(std::memory_order_acquire) != ticket) arch::cpu_relax();
        return state;
    }

    void unlock(arch::InterruptState state) {
        serving_.fetch_add(1, std::memory_order_release);
        arch::restore_interrupts(state);
    }

private:
    std::atomic<uint32_t> next_{0};
    std::atomic<uint32_t> serving_{0};
};

class SpinLockGuard {
public:
    explicit SpinLockGuard(SpinLock& lock) : lock_(lock), state_(lock.lock()) {}
    ~SpinLockGuard() { lock_.unlock(state_); }
    SpinLockGuard(const SpinLockGuard&) = delete;
    SpinLockGuard& operator=(const SpinLockGuard&) = delete;

private:
    SpinLock& lock_;
    arch::InterruptState state_;
};

}  // namespace umka
