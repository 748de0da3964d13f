// The scheduler's own data, shared by its files (scheduler.cpp: the mechanism;
// policy_swap.cpp: replacing the policy module live; code_scan.cpp: finding code on task
// stacks). Not for other parts of the nucleus: they use scheduler.h.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/spinlock.h"
#include "nucleus/sched/scheduler.h"
#include "umka/kabi/scheduler_policy.hpp"

namespace umka::sched {

namespace policy_api = umka::kabi::scheduler_policy;

struct CpuScheduler {
    SpinLock lock;  // the run-queue lock of this CPU
    Task* current;
    Task* switching_from;  // set across a switch, read by the resumed side
    Task idle;             // this CPU's idle context (not known to the policy)
};

// The arrays attached to the policy (services/scheduler/README.md §1) and their layout.
struct PolicyMemory {
    void* run_queues;
    uint64_t run_queue_bytes;
    void* tasks;
    uint64_t task_bytes;
    policy_api::PolicyLayout layout;
};

namespace internal {
extern policy_api::SchedulerPolicyRef policy;
extern Task* tasks;
extern size_t task_capacity;
extern CpuScheduler* cpus;
extern PolicyMemory policy_memory;
}  // namespace internal

}  // namespace umka::sched
