// A lock whose waiters sleep on a WaitQueue instead of spinning: for sections that may
// themselves block (a ring call waits for its completion), where a spin lock would burn
// the waiting CPU for the length of a round trip or deadlock a CPU against itself. Not
// for interrupt context. Not recursive.
#pragma once

#include <stdint.h>

#include <atomic>

#include "nucleus/sched/scheduler.h"

namespace umka::sched {

class SleepingLock {
public:
    constexpr SleepingLock() = default;
    SleepingLock(const SleepingLock&) = delete;
    SleepingLock& operator=(const SleepingLock&) = delete;

    void lock();
    void unlock();

private:
    enum class Holder : uint32_t { Free = 0, Held = 1 };

    static bool is_free(void* self);

    std::atomic<Holder> holder_{Holder::Free};
    WaitQueue waiters_;
};

}  // namespace umka::sched
