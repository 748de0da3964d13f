// EEVDF (earliest eligible virtual deadline first; Stoica et al. 1996, Linux >= 6.6) over
// one run queue whose memory is the nucleus's: a RunQueueState and the TaskState array
// (kabi-idl/modules/scheduler.kabi). A RunQueue is a short-lived view built per call on the
// stack; it keeps nothing itself. The caller holds the queue's lock (README.md).
//
// Units: real time in ns; virtual time in "virtual ns", real ns x 1024 / weight, so a nice-0
// task's virtual runtime advances with real time and heavier tasks' more slowly. V, the
// queue's virtual time, is the weight-averaged virtual runtime of its runnable tasks
// (floor of the exact average); a task is eligible when v <= V, its lag is V - v (virtual
// ns; weight x lag / 1024 real ns of service), and the weighted lags of a queue's runnable
// tasks sum to zero by construction, within one virtual ns x total weight of rounding.
#pragma once

#include <stdint.h>

#include "umka/kabi/scheduler_policy.hpp"
#include "umka/kabi/scheduler_state.hpp"

namespace umka::eevdf {

using RunQueueState = kabi::scheduler::RunQueueState;
using TaskState = kabi::scheduler::TaskState;
using TaskRunState = kabi::scheduler_policy::TaskRunState;
using WakeReason = kabi::scheduler_policy::WakeReason;

// "No task" and "no CPU" in the interface (a slot index never reaches it: see attach).
inline constexpr uint32_t kNone = 0xFFFF'FFFF;
inline constexpr uint32_t kMaximumTaskCapacity = kNone - 1;  // links are slot + 1 in a u32
inline constexpr uint64_t kNiceZeroWeight = 1024;
// The request size of every task: its virtual deadline is one slice of service ahead.
// Linux's sysctl_sched_base_slice scaled for a few CPUs; the tick should be shorter.
inline constexpr uint64_t kBaseSliceNs = 3'000'000;
inline constexpr int32_t kMinimumNice = -20;
inline constexpr int32_t kMaximumNice = 19;
inline constexpr uint32_t kPinnedFlag = uint32_t(kabi::scheduler_policy::TaskFlags::Pinned);

// Linux's sched_prio_to_weight: each nice step is ~1.25x CPU share ("10% effect").
// Precondition: kMinimumNice <= nice <= kMaximumNice.
uint32_t weight_of_nice(int32_t nice);

// floor(real_ns x 1024 / weight) without overflowing for any real_ns.
uint64_t virtual_from_real(uint64_t real_ns, uint32_t weight);

// Largest |lag| a task keeps when it leaves a queue: two slices of its service (Linux
// clamps the same way), so a long sleeper cannot bank credit or debt without bound.
int64_t lag_limit(uint32_t weight);

// New weight for a task on no queue: its kept lag is scaled so its service lag stays.
void reweight_blocked(TaskState& state, uint32_t weight);

inline uint32_t link_of(uint32_t task) {
    return task + 1;
}
inline uint32_t task_of(uint32_t link) {
    return link - 1;
}

class RunQueue {
public:
    RunQueue(RunQueueState& state, TaskState* tasks, uint32_t cpu)
        : state_(state), tasks_(tasks), cpu_(cpu) {}

    uint32_t current() const {
        return state_.current_link == 0 ? kNone : task_of(state_.current_link);
    }
    uint64_t virtual_time() const;
    uint64_t total_weight() const;

    // Charges the running task the time since the last charge. When its slice has run out
    // it gets a new deadline and, if another task is runnable, preempt_pending is set.
    // Returns preempt_pending: the CPU should call pick_next (which clears it).
    bool charge_current(uint64_t now_ns);
    // A blocked task (on no queue) joins this queue: a fresh task at V with half a slice to
    // its deadline; any other keeps the lag it left with, scaled so that it still has that
    // lag once its own weight is part of V. Precondition: charged.
    void place(uint32_t task, WakeReason reason);
    // A queued or running task leaves: it keeps its (clamped) lag. Precondition: charged.
    void remove(uint32_t task);
    // Puts the running task back and makes the eligible task with the earliest virtual
    // deadline (ties: lowest slot) current; kNone when nothing is runnable.
    // Precondition: charged at now_ns.
    uint32_t pick_next(uint64_t now_ns);
    // After place(woken): whether the CPU should reschedule (idle, or the woken task is
    // what pick_next would choose now).
    bool woken_task_preempts(uint32_t woken) const;
    // The running task's deadline moves one slice later (Linux's yield_task_fair).
    void yield_current();
    // New weight for a task on this queue (queued or running) with its lag and its
    // deadline's distance from V scaled so its service lag is kept. Precondition: charged.
    void reweight(uint32_t task, uint32_t weight);
    // The queued, unpinned task with the latest deadline (it would wait longest here);
    // kNone when there is none.
    uint32_t steal_candidate() const;

    // Runnable and stealable counts, written under the lock, read racily by other CPUs.
    static uint32_t runnable_count_of(const RunQueueState& state) {
        return __atomic_load_n(&state.runnable_count, __ATOMIC_RELAXED);
    }
    static uint32_t stealable_count_of(const RunQueueState& state) {
        return __atomic_load_n(&state.stealable_count, __ATOMIC_RELAXED);
    }

private:
    TaskState& task(uint32_t index) const { return tasks_[index]; }
    bool stealable(const TaskState& state) const { return (state.flags & kPinnedFlag) == 0; }
    void add_counts(int32_t runnable, int32_t stealable);
    void insert_queued(uint32_t index);
    void unlink_queued(uint32_t index);
    void add_key(const TaskState& state);
    void remove_key(const TaskState& state);
    bool better(uint32_t candidate, uint32_t best) const;

    RunQueueState& state_;
    TaskState* tasks_;
    uint32_t cpu_;
};

}  // namespace umka::eevdf
