// The scheduler's own data and helpers, shared by its files: scheduler.cpp (the mechanism),
// wait_queue.cpp (wait queues and sleeping), task_slots.cpp (the growing task table),
// policy_swap.cpp (replacing the policy module live) and code_scan.cpp (finding module code
// on task stacks). Not for other parts of the nucleus: they use scheduler.h.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/spinlock.h"
#include "nucleus/sched/scheduler.h"
#include "umka/kabi/scheduler_policy.hpp"

namespace umka::sched {

namespace policy_api = umka::kabi::scheduler_policy;

struct CpuScheduler {
    SpinLock lock{LockLevel::RunQueue};  // this CPU's run queue; ordinal: the CPU index
    Task* current;
    Task* switching_from;  // set across a switch, read by the resumed side
    Task idle;             // this CPU's idle context (not known to the policy)
    // Context switches into another task on this CPU; written only by this CPU, under its
    // lock. Summed over the CPUs, an unchanged total proves no task was switched in
    // anywhere (code_scan.cpp's pause scan).
    uint64_t switch_ins;
};

// The arrays attached to the policy (services/scheduler/README.md §1) and their layout.
// Changed only with every other CPU stopped (task slot growth, a policy swap).
struct PolicyMemory {
    void* run_queues;
    uint64_t run_queue_bytes;
    void* tasks;
    uint64_t task_bytes;
    policy_api::PolicyLayout layout;
};

namespace internal {
extern policy_api::SchedulerPolicyRef policy;
extern CpuScheduler* cpus;
extern PolicyMemory policy_memory;
}  // namespace internal

namespace detail {

// The task running on this CPU; interrupts must be off.
Task* current_on_this_cpu();

// Takes the calling task off its CPU unless it was woken meanwhile; interrupts off, the
// task already marked Blocked (and queued wherever its waker will find it).
void block_current();

// Each wait a task starts gets a sequence number (begin_wait, by the waiter, under the lock
// where its waker will find it). A waker reads it under that lock and wakes with it: the
// first waker of that wait makes the task runnable, any other does nothing, so a timed
// waiter found by both the timer and a queue waker is woken once, and a waker that lost
// the race cannot wake a later wait of the same task.
void begin_wait(Task* task);
void wake(Task* task, uint32_t wait_sequence, LocalPreemption preemption);

// The sleeper list (timed sleeps and timed waits). Lock order: after a wait queue's lock,
// before any run-queue lock.
void add_sleeper(Task* task, uint64_t wake_at_ns);
void remove_sleeper(Task* task);
void wake_expired_sleepers();

// The bound policy module.
policy_api::SchedulerPolicyRef& policy_module();

// Task slots (task_slots.cpp): records in chunks that never move, so a Task* stays valid
// while the table grows; the policy's task-state array (internal::policy_memory) grows
// with them.
Status initialize_task_slots(uint32_t per_chunk);
uint32_t task_capacity();
Task& task_at(uint32_t slot);
// The chunk of slots [index * task_chunk_size(), (index + 1) * task_chunk_size()).
uint32_t task_chunk_size();
Task* task_chunk(uint32_t index);

// Calls visit(task) for slots [0, count) in order, chunk by chunk: no divide per slot (an
// emulated divide costs tens of nanoseconds, and a swap's pause visits every slot). Stops
// at the first visit that returns false; returns whether it ran to the end.
template <typename Visit>
bool for_each_task(uint32_t count, Visit&& visit) {
    uint32_t per_chunk = task_chunk_size();
    for (uint32_t first = 0, chunk = 0; first < count; first += per_chunk, ++chunk) {
        Task* tasks = task_chunk(chunk);
        uint32_t in_chunk = count - first < per_chunk ? count - first : per_chunk;
        for (uint32_t index = 0; index < in_chunk; ++index) {
            if (!visit(tasks[index])) return false;
        }
    }
    return true;
}
// Adds one chunk of slots unless the capacity is no longer `seen_capacity` (another caller
// grew it). Stops every CPU for the copy and re-attach. TryAgain when it cannot.
Status grow_task_slots(uint32_t seen_capacity);

}  // namespace detail
}  // namespace umka::sched
