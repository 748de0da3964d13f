// Reaching and checking the scheduler's nucleus memory (policy_memory.h).
#include "policy_memory.h"

#include "schema_versions.h"
#include "umka/kabi/kernel_services.hpp"

namespace umka::scheduler_module {

namespace services = kabi::kernel_services;

kabi::Status refuse(void* context, int32_t code, const LineText& text) {
    // The binding's refusal text reaches the nucleus's report of a refused entry or start,
    // where the Log is not reachable (module_entry.h); later the log line says it too.
    (void)umka_module_refuse(static_cast<UmkaModuleBinding*>(context), code, text.data(),
                             text.length());
    services::LogRef log;
    // Without a Log the line is lost, but the caller still gets the status.
    if (kabi::bind_required(kabi::binding_of(context), kLog, &log).is_ok()) {
        LineText line;
        line.add("scheduler: ").append(text);
        log.write(services::LogLevel::Error, line.data(), line.length());
    }
    return code;
}

SchedulerGlobals& globals_of(void* context) {
    // umka_module_entry refused the binding unless the region is there and large enough.
    return *kabi::module_state<SchedulerGlobals>(kabi::binding_of(context), kGlobals);
}

PolicyMemory memory_of(const SchedulerGlobals& globals) {
    PolicyMemory memory;
    memory.run_queues = reinterpret_cast<RunQueueState*>(uintptr_t(globals.run_queues_address));
    memory.run_queue_count = globals.run_queue_count;
    memory.tasks = reinterpret_cast<TaskState*>(uintptr_t(globals.tasks_address));
    memory.task_capacity = globals.task_capacity;
    return memory;
}

namespace {

using eevdf::task_of;
using eevdf::TaskRunState;

kabi::Status inconsistent(void* context, const char* method, const LineText& text) {
    LineText line;
    line.add(method).add(": inconsistent scheduler state: ").append(text);
    return refuse(context, UMKA_KABI_EINVAL, line);
}

// Per-task checks; counts the tasks that must appear on some queue.
kabi::Status check_tasks(void* context, const char* method, const PolicyMemory& memory,
                         uint64_t* runnable_tasks) {
    for (uint32_t index = 0; index < memory.task_capacity; ++index) {
        const TaskState& task = memory.tasks[index];
        LineText text;
        text.add("task ").number(index);
        if (task.run_state > uint8_t(TaskRunState::Running)) {
            return inconsistent(context, method,
                                text.add(" has run state ").number(task.run_state));
        }
        if (task.run_state == uint8_t(TaskRunState::Unused)) continue;
        if (task.nice < eevdf::kMinimumNice || task.nice > eevdf::kMaximumNice ||
            task.weight != eevdf::weight_of_nice(task.nice)) {
            return inconsistent(context, method,
                                text.add(" has nice ")
                                    .signed_number(task.nice)
                                    .add(" and weight ")
                                    .number(task.weight));
        }
        if (!version_fields_valid(task)) {
            return inconsistent(context, method,
                                text.add(" has a slice of ").number(slice_of(task)).add(" ns"));
        }
        if (task.cpu >= memory.run_queue_count) {
            return inconsistent(context, method, text.add(" is on cpu ").number(task.cpu));
        }
        if (task.next_link > memory.task_capacity || task.previous_link > memory.task_capacity) {
            return inconsistent(context, method, text.add(" links past the task array"));
        }
        if (task.run_state != uint8_t(TaskRunState::Blocked)) *runnable_tasks += 1;
    }
    return kabi::Status::ok();
}

kabi::Status check_queue(void* context, const char* method, const PolicyMemory& memory,
                         uint32_t cpu, uint64_t* reached) {
    const RunQueueState& queue = memory.run_queues[cpu];
    LineText text;
    text.add("cpu ").number(cpu);
    if (queue.current_link > memory.task_capacity || queue.first_link > memory.task_capacity) {
        return inconsistent(context, method, text.add(" links past the task array"));
    }
    uint32_t runnable = 0;
    if (queue.current_link != 0) {
        const TaskState& running = memory.tasks[task_of(queue.current_link)];
        if (running.run_state != uint8_t(TaskRunState::Running) || running.cpu != cpu) {
            return inconsistent(context, method,
                                text.add(" runs task ")
                                    .number(task_of(queue.current_link))
                                    .add(", which is not Running there"));
        }
        runnable = 1;
    }
    uint32_t stealable = 0;
    uint64_t weight = 0;
    int64_t key_sum = 0;
    uint32_t previous = 0;
    for (uint32_t link = queue.first_link; link != 0;) {
        const TaskState& task = memory.tasks[task_of(link)];
        if (runnable > memory.task_capacity) {
            return inconsistent(context, method, text.add("'s queue has a cycle"));
        }
        if (task.run_state != uint8_t(TaskRunState::Queued) || task.cpu != cpu ||
            task.previous_link != previous) {
            return inconsistent(context, method,
                                text.add(" queues task ")
                                    .number(task_of(link))
                                    .add(", which is not Queued there or has a wrong back link"));
        }
        runnable += 1;
        if ((task.flags & eevdf::kPinnedFlag) == 0) stealable += 1;
        weight += task.weight;
        key_sum += int64_t(task.weight) * int64_t(task.virtual_runtime - queue.base_virtual_time);
        previous = link;
        link = task.next_link;
    }
    if (queue.runnable_count != runnable || queue.stealable_count != stealable ||
        queue.queued_weight != weight || queue.queued_key_sum != key_sum) {
        return inconsistent(context, method,
                            text.add("'s counts or sums disagree with its tasks (")
                                .number(runnable)
                                .add(" runnable found, ")
                                .number(queue.runnable_count)
                                .add(" recorded)"));
    }
    *reached += runnable;
    return kabi::Status::ok();
}

}  // namespace

kabi::Status check_consistency(void* context, const char* method, const PolicyMemory& memory) {
    uint64_t runnable_tasks = 0;
    if (kabi::Status status = check_tasks(context, method, memory, &runnable_tasks);
        status.is_error()) {
        return status;
    }
    uint64_t reached = 0;
    for (uint32_t cpu = 0; cpu < memory.run_queue_count; ++cpu) {
        if (kabi::Status status = check_queue(context, method, memory, cpu, &reached);
            status.is_error()) {
            return status;
        }
    }
    // Each queue reaches only its own Queued/Running tasks, each at most once; equal totals
    // therefore mean every runnable task is on exactly one queue.
    if (reached != runnable_tasks) {
        LineText text;
        text.number(runnable_tasks)
            .add(" tasks are Queued or Running but the queues reach ")
            .number(reached);
        return inconsistent(context, method, text);
    }
    return kabi::Status::ok();
}

}  // namespace umka::scheduler_module
