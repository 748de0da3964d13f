// Wait queues and sleeping on top of the scheduler core (scheduler_internal.h): a waiter
// marks itself Blocked under the queue's (or the sleeper list's) lock and then leaves its
// CPU; a waker takes it off under the same lock and makes it runnable, so a wake-up
// between the check and the block is never lost.
//
// Wakers collect tasks under the lock and wake them after dropping it, a few at a time in
// a local array rather than through the tasks' links: once woken by someone else (a timed
// waiter is on a queue and the sleeper list at once) a task may run and queue itself again
// before the collecting waker is done, and its links would then lead elsewhere.
#include <arch/cpu.h>

#include "nucleus/sched/scheduler.h"
#include "nucleus/sched/scheduler_internal.h"

namespace umka::sched {
namespace {

constexpr uint32_t kWakeBatch = 16;

struct Waking {
    Task* task;
    uint32_t wait_sequence;
};

// Sleeping tasks, in no order; each CPU's tick wakes the expired ones.
constinit SpinLock sleepers_lock{LockLevel::Sleepers};
constinit Task* sleepers = nullptr;

}  // namespace

namespace detail {

void add_sleeper(Task* task, uint64_t wake_at_ns) {
    SpinLockGuard guard(sleepers_lock);
    task->wake_at_ns = wake_at_ns;
    task->next_sleeper = sleepers;
    sleepers = task;
}

void remove_sleeper(Task* task) {
    SpinLockGuard guard(sleepers_lock);
    for (Task** link = &sleepers; *link != nullptr; link = &(*link)->next_sleeper) {
        if (*link == task) {
            *link = task->next_sleeper;
            task->next_sleeper = nullptr;
            return;
        }
    }
}

void wake_expired_sleepers() {
    for (;;) {
        Waking expired[kWakeBatch];
        uint32_t count = 0;
        bool more = false;
        {
            uint64_t now = now_ns();
            SpinLockGuard guard(sleepers_lock);
            Task** link = &sleepers;
            while (*link != nullptr) {
                Task* task = *link;
                if (task->wake_at_ns > now) {
                    link = &task->next_sleeper;
                } else if (count == kWakeBatch) {
                    more = true;
                    break;
                } else {
                    *link = task->next_sleeper;
                    task->next_sleeper = nullptr;
                    expired[count++] =
                        Waking{task, task->wait_sequence.load(std::memory_order_relaxed)};
                }
            }
        }
        for (uint32_t index = 0; index < count; ++index) {
            wake(expired[index].task, expired[index].wait_sequence, LocalPreemption::Allowed);
        }
        if (!more) return;
    }
}

}  // namespace detail

bool WaitQueue::unlink(Task* task) {
    lock_.assert_held();
    Task* previous = nullptr;
    for (Task* queued = first_; queued != nullptr;
         previous = queued, queued = queued->next_waiter) {
        if (queued != task) continue;
        if (previous == nullptr) {
            first_ = task->next_waiter;
        } else {
            previous->next_waiter = task->next_waiter;
        }
        if (last_ == task) last_ = previous;
        task->next_waiter = nullptr;
        return true;
    }
    return false;
}

namespace {

struct Condition {
    bool (*holds)(void* context);
    void* context;
};

bool condition_fails(void* context) {
    auto* condition = static_cast<Condition*>(context);
    return !condition->holds(condition->context);
}

}  // namespace

void WaitQueue::wait(bool (*condition)(void* context), void* context) {
    Condition waiting_for{condition, context};
    while (wait_once(condition_fails, &waiting_for, 0) != WaitOutcome::NotBlocked) {
    }
}

WaitOutcome WaitQueue::wait_once(bool (*should_block)(void* context), void* context,
                                 uint64_t deadline_ns) {
    arch::InterruptState interrupts = lock_.lock();
    if (!should_block(context)) {
        lock_.unlock(interrupts);
        return WaitOutcome::NotBlocked;
    }
    Task* self = detail::current_on_this_cpu();
    detail::begin_wait(self);
    self->next_waiter = nullptr;
    if (last_ != nullptr) {
        last_->next_waiter = self;
    } else {
        first_ = self;
    }
    last_ = self;
    self->state.store(TaskState::Blocked, std::memory_order_release);
    if (deadline_ns != 0) detail::add_sleeper(self, deadline_ns);
    lock_.unlock(arch::InterruptState::Disabled);
    detail::block_current();
    // Woken either by wake(), which took us off the queue, or by the timer, which did not.
    (void)lock_.lock();
    bool timed_out = unlink(self);
    lock_.unlock(arch::InterruptState::Disabled);
    if (deadline_ns != 0) detail::remove_sleeper(self);
    arch::restore_interrupts(interrupts);
    return timed_out ? WaitOutcome::TimedOut : WaitOutcome::Woken;
}

uint32_t WaitQueue::wake(uint32_t count, LocalPreemption preemption) {
    uint32_t woken = 0;
    while (woken < count) {
        Waking batch[kWakeBatch];
        uint32_t taken = 0;
        arch::InterruptState interrupts = lock_.lock();
        while (first_ != nullptr && taken < kWakeBatch && woken + taken < count) {
            Task* task = first_;
            first_ = task->next_waiter;
            if (first_ == nullptr) last_ = nullptr;
            task->next_waiter = nullptr;
            batch[taken++] = Waking{task, task->wait_sequence.load(std::memory_order_relaxed)};
        }
        lock_.unlock(interrupts);
        for (uint32_t index = 0; index < taken; ++index) {
            detail::wake(batch[index].task, batch[index].wait_sequence, preemption);
        }
        woken += taken;
        if (taken < kWakeBatch) break;
    }
    return woken;
}

void WaitQueue::wake_one() {
    (void)wake(1);
}

void WaitQueue::wake_all() {
    (void)wake(0xFFFFFFFFu);
}

bool WaitQueue::has_waiters() {
    SpinLockGuard guard(lock_);
    return first_ != nullptr;
}

void sleep_ns(uint64_t nanoseconds) {
    if (!running()) return;
    arch::InterruptState interrupts = arch::save_and_disable_interrupts();
    Task* self = detail::current_on_this_cpu();
    {
        // Blocked before the timer can see it, so an early expiry still finds it blocked.
        SpinLockGuard guard(sleepers_lock);
        detail::begin_wait(self);
        self->state.store(TaskState::Blocked, std::memory_order_release);
        self->wake_at_ns = deadline_after(nanoseconds);
        self->next_sleeper = sleepers;
        sleepers = self;
    }
    detail::block_current();
    arch::restore_interrupts(interrupts);
}

}  // namespace umka::sched
