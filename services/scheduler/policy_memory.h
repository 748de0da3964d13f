// The nucleus memory the scheduler module works in, reached through its state region, and
// the checks that run before the module trusts arrays it was handed (attach, a swap).
// Refusals are logged through kernel_services.Log, one line naming what is wrong.
#pragma once

#include <stdint.h>

#include "eevdf.h"
#include "umka/kabi/kabi_base.h"
#include "umka/kabi/scheduler_state.hpp"
#include "umka/line_text.h"
#include "umka/module_entry.h"

namespace umka::scheduler_module {

using SchedulerGlobals = kabi::scheduler::SchedulerGlobals;
using eevdf::RunQueueState;
using eevdf::TaskState;

// Manifest order of kabi-idl/modules/scheduler.kabi.
enum Required : uint32_t { kLog = 0, kRequiredCount = 1 };
enum Provided : uint32_t { kSchedulerPolicy = 0, kProvidedCount = 1 };
enum StateIndex : uint32_t { kGlobals = 0, kStateCount = 1 };

// A bounded line of text for the log (no libc in a module).
using LineText = umka::LineText<192>;

// Logs "scheduler: <text>" at error level and returns `code`.
kabi::Status refuse(void* context, int32_t code, const LineText& text);

// The attached arrays, as read from SchedulerGlobals.
struct PolicyMemory {
    RunQueueState* run_queues = nullptr;
    uint32_t run_queue_count = 0;
    TaskState* tasks = nullptr;
    uint32_t task_capacity = 0;

    eevdf::RunQueue queue(uint32_t cpu) const {
        return eevdf::RunQueue(run_queues[cpu], tasks, cpu);
    }
};

SchedulerGlobals& globals_of(void* context);
PolicyMemory memory_of(const SchedulerGlobals& globals);

// EINVAL (logged, naming `method`) unless the arrays are a consistent scheduler state: known
// run states and weights, every link inside the task array, each queue's list well formed
// (back links agree, no cycle) and holding only Queued tasks of that CPU, the running task
// Running on it, the counts and key sums matching the tasks, and every Queued or Running
// task reached from exactly one queue. Zero-filled arrays pass.
kabi::Status check_consistency(void* context, const char* method, const PolicyMemory& memory);

}  // namespace umka::scheduler_module
