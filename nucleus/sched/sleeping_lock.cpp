#include "nucleus/sched/sleeping_lock.h"

namespace umka::sched {

bool SleepingLock::is_free(void* self) {
    return static_cast<SleepingLock*>(self)->holder_.load(std::memory_order_acquire) ==
           Holder::Free;
}

void SleepingLock::lock() {
    verify_no_spin_lock_held("taking a sleeping lock");
    // The queue's condition is checked under its lock and unlock() wakes under it too, so a
    // release between our failed exchange and our sleep is seen by the check: no lost wake.
    while (holder_.exchange(Holder::Held, std::memory_order_acquire) == Holder::Held) {
        waiters_.wait(&SleepingLock::is_free, this);
    }
}

void SleepingLock::unlock() {
    holder_.store(Holder::Free, std::memory_order_release);
    waiters_.wake_one();
}

}  // namespace umka::sched
