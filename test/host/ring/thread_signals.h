// RingSignals for host threads: one mutex and one condition variable per party, futex
// semantics by checking the sleep-state word under the mutex. A wait that lasts longer
// than `stall_limit` is recorded as a stall and returns (the ring code re-checks and
// sleeps again), so a lost wake-up fails a test instead of hanging it.
#pragma once

#include <sched.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <new>

#include "nucleus/ring/ring_signals.h"

namespace umka::ring::testing {

class ThreadSignals {
public:
    explicit ThreadSignals(uint32_t spin_polls = 0,
                           std::chrono::milliseconds stall_limit = std::chrono::seconds(10))
        : stall_limit_(stall_limit) {
        signals_.context = this;
        signals_.wait = &ThreadSignals::wait;
        signals_.wake = &ThreadSignals::wake;
        signals_.current_cpu = &ThreadSignals::current_cpu;
        signals_.spin_polls = spin_polls;
    }
    ThreadSignals(const ThreadSignals&) = delete;
    ThreadSignals& operator=(const ThreadSignals&) = delete;

    const RingSignals* signals() const { return &signals_; }

    uint64_t sleeps(RingParty party) const { return locked(sleeps_[index(party)]); }
    uint64_t wakes(RingParty party) const { return locked(wakes_[index(party)]); }
    uint64_t stalls() const { return locked(stalls_); }
    uint32_t last_wake_cpu() const { return locked(last_wake_cpu_); }

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
