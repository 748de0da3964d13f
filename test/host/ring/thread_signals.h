// RingSignals for host threads: one mutex and one condition variable per party, futex
// semantics by checking the sleep-state word under the mutex. A wait that lasts longer
// than `stall_limit` is recorded as a stall and returns (the ring code re-checks and
// sleeps again), so a lost wake-up fails a test instead of hanging it.
//
// The peer barrier (RingSignals::peer_barrier) is Linux's membarrier(): every thread of
// the process that runs at the time is interrupted, which orders its memory accesses.
// PeerBarrier::None leaves it out, so the ring ends use sequentially consistent index
// stores instead (IndexOrder::Fenced, what a binding without a barrier gets).
#pragma once

#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>

#include "nucleus/ring/ring_signals.h"

namespace umka::ring::testing {

enum class PeerBarrier : uint32_t {
    Membarrier = 0,  // when the kernel offers it; None otherwise
    None = 1,
};

class ThreadSignals {
public:
    explicit ThreadSignals(uint32_t spin_polls = 0, PeerBarrier barrier = PeerBarrier::Membarrier,
                           std::chrono::milliseconds stall_limit = std::chrono::seconds(10))
        : stall_limit_(stall_limit) {
        signals_.context = this;
        signals_.wait = &ThreadSignals::wait;
        signals_.wake = &ThreadSignals::wake;
        signals_.current_cpu = &ThreadSignals::current_cpu;
        signals_.spin_polls = spin_polls;
        if (barrier == PeerBarrier::Membarrier && register_membarrier()) {
            signals_.peer_barrier = &ThreadSignals::membarrier;
        }
    }
    ThreadSignals(const ThreadSignals&) = delete;
    ThreadSignals& operator=(const ThreadSignals&) = delete;

    const RingSignals* signals() const { return &signals_; }

    uint64_t sleeps(RingParty party) const { return locked(sleeps_[index(party)]); }
    uint64_t wakes(RingParty party) const { return locked(wakes_[index(party)]); }
    uint64_t stalls() const { return locked(stalls_); }
    uint32_t last_wake_cpu() const { return locked(last_wake_cpu_); }
    bool has_peer_barrier() const { return signals_.peer_barrier != nullptr; }

private:
    static size_t index(RingParty party) { return static_cast<size_t>(party); }
    template <typename T>
    T locked(const T& value) const {
        std::lock_guard<std::mutex> lock(mutex_);
        return value;
    }

    static void wait(void* context, RingParty sleeper, const uint32_t* state) {
        auto* self = static_cast<ThreadSignals*>(context);
        std::unique_lock<std::mutex> lock(self->mutex_);
        ++self->sleeps_[index(sleeper)];
        bool woken = self->conditions_[index(sleeper)].wait_for(lock, self->stall_limit_, [&] {
            return load_sleep_state(state) != SleepState::Sleeping;
        });
        if (!woken) ++self->stalls_;
    }

    static void wake(void* context, RingParty sleeper, uint32_t cpu) {
        auto* self = static_cast<ThreadSignals*>(context);
        {
            // Taking the mutex orders this wake-up after the sleeper's check of its word,
            // or before it (then the check sees Running): the futex guarantee.
            std::lock_guard<std::mutex> lock(self->mutex_);
            ++self->wakes_[index(sleeper)];
            self->last_wake_cpu_ = cpu;
        }
        self->conditions_[index(sleeper)].notify_all();
    }

    // Registration is per process and idempotent; false where membarrier() is missing or
    // refused (old kernel, seccomp).
    static bool register_membarrier() {
        return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
    }
    static void membarrier(void*) {
        // Registered above, so this cannot fail short of a kernel bug; a failure would
        // leave the ring without its ordering, so stop rather than lose a wake-up.
        if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) abort();
    }

    static uint32_t current_cpu(void*) {
        int cpu = sched_getcpu();
        return cpu < 0 ? kUnknownCpu : static_cast<uint32_t>(cpu);
    }

    RingSignals signals_;
    std::chrono::milliseconds stall_limit_;
    mutable std::mutex mutex_;
    std::condition_variable conditions_[2];
    uint64_t sleeps_[2] = {};
    uint64_t wakes_[2] = {};
    uint64_t stalls_ = 0;
    uint32_t last_wake_cpu_ = kUnknownCpu;
};

// Cache-line-aligned memory for a ring pair, freed with the object.
class RingMemory {
public:
    explicit RingMemory(size_t bytes)
        : bytes_(bytes),
          memory_(static_cast<uint8_t*>(::operator new (bytes, std::align_val_t{64}))) {}
    ~RingMemory() { ::operator delete (memory_, std::align_val_t{64}); }
    RingMemory(const RingMemory&) = delete;
    RingMemory& operator=(const RingMemory&) = delete;

    void* data() const { return memory_; }
    size_t size() const { return bytes_; }

private:
    size_t bytes_;
    uint8_t* memory_;
};

}  // namespace umka::ring::testing
