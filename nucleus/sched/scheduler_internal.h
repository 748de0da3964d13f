// What the scheduler core (scheduler.cpp) shares with wait queues and sleeping
// (wait_queue.cpp). Not for other nucleus code: they use scheduler.h.
#pragma once

#include <stdint.h>

#include "nucleus/sched/scheduler.h"
#include "umka/kabi/scheduler_policy.hpp"

namespace umka::sched::detail {

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
umka::kabi::scheduler_policy::SchedulerPolicyRef& policy_module();

// Task slots (task_slots.cpp): records in chunks that never move, so a Task* stays valid
// while the table grows; the policy's task-state array grows with them.
Status initialize_task_slots(uint32_t per_chunk, void* run_queues, uint64_t run_queue_bytes,
                             void* task_states, uint32_t task_state_size);
uint32_t task_capacity();
Task& task_at(uint32_t slot);
// Adds one chunk of slots unless the capacity is no longer `seen_capacity` (another caller
// grew it). Stops every CPU for the copy and re-attach. TryAgain when it cannot.
Status grow_task_slots(uint32_t seen_capacity);

}  // namespace umka::sched::detail
