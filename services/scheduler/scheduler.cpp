// The scheduler policy module (kabi-idl/modules/scheduler.kabi; built a second time as
// scheduler-v2.umod from kabi-idl/versions/scheduler.kabi, see schema_versions.h): provides
// scheduler_policy.SchedulerPolicy version 2, EEVDF over per-CPU run queues with work
// stealing; requires kernel_services.Log (refusals are logged, naming what is wrong).
//
// Stateless code: the binding is the context, SchedulerGlobals (the module's state region)
// says where the nucleus's per-CPU RunQueueState and per-task TaskState arrays are, and
// every call works on those under the lock the nucleus holds (README.md is the contract).
// This file checks arguments and maps each method onto eevdf::RunQueue (eevdf.h).
#include <stddef.h>
#include <stdint.h>

#include "call_checks.h"
#include "eevdf.h"
#include "policy_memory.h"
#include "schema_versions.h"
#include "state_import.h"
#include "umka/kabi/scheduler_manifest.hpp"
#include "umka/kabi/scheduler_policy.hpp"
#include "umka/kabi/scheduler_state.hpp"
#include "umka/module_entry.h"

namespace policy = umka::kabi::scheduler_policy;
namespace schema = umka::kabi::scheduler;
using umka::eevdf::kNone;
using umka::eevdf::RunQueueState;
using umka::eevdf::TaskRunState;
using umka::eevdf::TaskState;
using umka::kabi::Status;
using umka::scheduler_module::begin;
using umka::scheduler_module::Call;
using umka::scheduler_module::check_array;
using umka::scheduler_module::check_cpu;
using umka::scheduler_module::check_nice;
using umka::scheduler_module::check_output;
using umka::scheduler_module::check_task;
using umka::scheduler_module::LineText;
using umka::scheduler_module::PolicyMemory;
using umka::scheduler_module::refuse;
using umka::scheduler_module::SchedulerGlobals;
using umka::scheduler_module::text_for;

namespace {

namespace module = umka::scheduler_module;
namespace eevdf = umka::eevdf;

struct SchedulerPolicy {
    static Status statistics(void* context, uint32_t cpu, policy::SchedulerStatistics* out) {
        Call call;
        if (Status status = begin(context, "statistics", &call); status.is_error()) return status;
        if (Status status = check_cpu(call, cpu, "cpu"); status.is_error()) return status;
        if (Status status = check_output(call, out, "statistics"); status.is_error()) return status;
        const RunQueueState& queue = call.memory.run_queues[cpu];
        out->context_switches = queue.context_switches;
        out->runnable_threads = eevdf::RunQueue::runnable_count_of(queue);
        out->idle_ns = queue.idle_ns;
        return Status::ok();
    }

    static Status layout(void* context, policy::PolicyLayout* out) {
        Call call{context, "layout", {}};
        if (Status status = check_output(call, out, "layout"); status.is_error()) return status;
        out->run_queue_state_size = sizeof(RunQueueState);
        out->run_queue_state_align = alignof(RunQueueState);
        out->run_queue_state_version = schema::run_queue_state_version;
        out->task_state_size = sizeof(TaskState);
        out->task_state_align = alignof(TaskState);
        out->task_state_version = schema::task_state_version;
        return Status::ok();
    }

    static Status attach(void* context, void* run_queues, uint64_t run_queues_length, void* tasks,
                         uint64_t tasks_length) {
        PolicyMemory memory;
        if (Status status = check_array(context, run_queues, run_queues_length,
                                        sizeof(RunQueueState), alignof(RunQueueState), kNone - 1,
                                        "run-queue", &memory.run_queue_count);
            status.is_error()) {
            return status;
        }
        if (Status status =
                check_array(context, tasks, tasks_length, sizeof(TaskState), alignof(TaskState),
                            eevdf::kMaximumTaskCapacity, "task", &memory.task_capacity);
            status.is_error()) {
            return status;
        }
        memory.run_queues = static_cast<RunQueueState*>(run_queues);
        memory.tasks = static_cast<TaskState*>(tasks);
        if (Status status = module::check_consistency(context, "attach", memory);
            status.is_error()) {
            return status;
        }
        SchedulerGlobals& globals = module::globals_of(context);
        globals.run_queues_address = uint64_t(uintptr_t(run_queues));
        globals.run_queue_count = memory.run_queue_count;
        globals.tasks_address = uint64_t(uintptr_t(tasks));
        globals.task_capacity = memory.task_capacity;
        globals.attach_count += 1;
        module::record_array_versions(globals, module::own_array_versions());
        return Status::ok();
    }

    static Status import_states(void* context, const void* old_run_queues,
                                uint64_t old_run_queues_length, uint32_t old_run_queue_version,
                                const void* old_tasks, uint64_t old_tasks_length,
                                uint32_t old_task_version) {
        return module::import_states(context, old_run_queues, old_run_queues_length,
                                     old_run_queue_version, old_tasks, old_tasks_length,
                                     old_task_version);
    }

    static Status task_create(void* context, uint32_t task, int8_t nice, uint32_t cpu,
                              policy::TaskFlags flags) {
        Call call;
        if (Status status = begin(context, "task_create", &call); status.is_error()) return status;
        if (task >= call.memory.task_capacity) return check_task(call, task);
        if (Status status = check_nice(call, nice); status.is_error()) return status;
        if (Status status = check_cpu(call, cpu, "cpu"); status.is_error()) return status;
        if ((uint32_t(flags) & ~eevdf::kPinnedFlag) != 0) {
            return refuse(context, UMKA_KABI_EINVAL,
                          text_for(call).add("unknown task flags ").number(uint32_t(flags)));
        }
        TaskState& state = call.memory.tasks[task];
        if (state.run_state != uint8_t(TaskRunState::Unused)) {
            return refuse(context, UMKA_KABI_EEXIST,
                          text_for(call).add("task ").number(task).add(" already exists"));
        }
        state = TaskState{};
        state.run_state = uint8_t(TaskRunState::Blocked);
        state.nice = nice;
        state.flags = uint32_t(flags);
        state.cpu = cpu;
        state.weight = eevdf::weight_of_nice(nice);
        module::initialise_version_fields(state);
        return Status::ok();
    }

    static Status task_exit(void* context, uint32_t task) {
        Call call;
        if (Status status = begin(context, "task_exit", &call); status.is_error()) return status;
        if (Status status = check_task(call, task); status.is_error()) return status;
        TaskState& state = call.memory.tasks[task];
        if (state.run_state != uint8_t(TaskRunState::Blocked)) {
            return refuse(context, UMKA_KABI_EBUSY,
                          text_for(call)
                              .add("task ")
                              .number(task)
                              .add(" is still on cpu ")
                              .number(state.cpu)
                              .add("'s run queue (dequeue_task it first)"));
        }
        state = TaskState{};
        return Status::ok();
    }

    static Status enqueue_task(void* context, uint32_t cpu, uint32_t task,
                               policy::WakeReason reason, uint64_t now_ns,
                               uint8_t* preempt_current) {
        Call call;
        if (Status status = begin(context, "enqueue_task", &call); status.is_error()) return status;
        if (Status status = check_cpu(call, cpu, "cpu"); status.is_error()) return status;
        if (Status status = check_task(call, task); status.is_error()) return status;
        if (Status status = check_output(call, preempt_current, "preempt_current");
            status.is_error()) {
            return status;
        }
        if (uint8_t(reason) > uint8_t(policy::WakeReason::Yielded)) {
            return refuse(context, UMKA_KABI_EINVAL,
                          text_for(call).add("unknown wake reason ").number(uint8_t(reason)));
        }
        TaskState& state = call.memory.tasks[task];
        if (state.run_state != uint8_t(TaskRunState::Blocked)) {
            return refuse(context, UMKA_KABI_EEXIST,
                          text_for(call)
                              .add("task ")
                              .number(task)
                              .add(" is already runnable on cpu ")
                              .number(state.cpu));
        }
        if ((state.flags & eevdf::kPinnedFlag) != 0 && state.cpu != cpu) {
            return refuse(context, UMKA_KABI_EINVAL,
                          text_for(call)
                              .add("task ")
                              .number(task)
                              .add(" is pinned to cpu ")
                              .number(state.cpu)
                              .add(", not ")
                              .number(cpu));
        }
        eevdf::RunQueue queue = call.memory.queue(cpu);
        bool pending = queue.charge_current(now_ns);
        queue.place(task, reason);
        *preempt_current = (pending || queue.woken_task_preempts(task)) ? 1 : 0;
        return Status::ok();
    }

    static Status dequeue_task(void* context, uint32_t cpu, uint32_t task, uint64_t now_ns) {
        Call call;
        if (Status status = begin(context, "dequeue_task", &call); status.is_error()) return status;
        if (Status status = check_cpu(call, cpu, "cpu"); status.is_error()) return status;
        if (Status status = check_task(call, task); status.is_error()) return status;
        const TaskState& state = call.memory.tasks[task];
        if (state.run_state == uint8_t(TaskRunState::Blocked)) {
            return refuse(context, UMKA_KABI_ENOENT,
                          text_for(call).add("task ").number(task).add(" is on no run queue"));
        }
        if (state.cpu != cpu) {
            return refuse(context, UMKA_KABI_EINVAL,
                          text_for(call)
                              .add("task ")
                              .number(task)
                              .add(" is on cpu ")
                              .number(state.cpu)
                              .add(", not ")
                              .number(cpu));
        }
        eevdf::RunQueue queue = call.memory.queue(cpu);
        queue.charge_current(now_ns);
        queue.remove(task);
        return Status::ok();
    }

    static Status pick_next_task(void* context, uint32_t cpu, uint64_t now_ns, uint32_t* task) {
        Call call;
        if (Status status = begin(context, "pick_next_task", &call); status.is_error()) {
            return status;
        }
        if (Status status = check_cpu(call, cpu, "cpu"); status.is_error()) return status;
        if (Status status = check_output(call, task, "task"); status.is_error()) return status;
        eevdf::RunQueue queue = call.memory.queue(cpu);
        queue.charge_current(now_ns);
        *task = queue.pick_next(now_ns);
        return Status::ok();
    }

    static Status timer_tick(void* context, uint32_t cpu, uint64_t now_ns,
                             uint8_t* preempt_current) {
        Call call;
        if (Status status = begin(context, "timer_tick", &call); status.is_error()) return status;
        if (Status status = check_cpu(call, cpu, "cpu"); status.is_error()) return status;
        if (Status status = check_output(call, preempt_current, "preempt_current");
            status.is_error()) {
            return status;
        }
        eevdf::RunQueue queue = call.memory.queue(cpu);
        bool pending = queue.charge_current(now_ns);
        // An idle CPU with queued tasks missed its wake-up (an IPI lost or not yet taken):
        // the tick is the backstop.
        bool idle_with_work =
            queue.current() == kNone && call.memory.run_queues[cpu].runnable_count != 0;
        *preempt_current = pending || idle_with_work ? 1 : 0;
        return Status::ok();
    }

    static Status yield_current(void* context, uint32_t cpu, uint64_t now_ns) {
        Call call;
        if (Status status = begin(context, "yield_current", &call); status.is_error()) {
            return status;
        }
        if (Status status = check_cpu(call, cpu, "cpu"); status.is_error()) return status;
        eevdf::RunQueue queue = call.memory.queue(cpu);
        if (queue.current() == kNone) {
            return refuse(context, UMKA_KABI_ENOENT,
                          text_for(call).add("cpu ").number(cpu).add(" runs no task"));
        }
        queue.charge_current(now_ns);
        queue.yield_current();
        return Status::ok();
    }

    static Status set_nice(void* context, uint32_t task, int8_t nice, uint64_t now_ns) {
        Call call;
        if (Status status = begin(context, "set_nice", &call); status.is_error()) return status;
        if (Status status = check_task(call, task); status.is_error()) return status;
        if (Status status = check_nice(call, nice); status.is_error()) return status;
        TaskState& state = call.memory.tasks[task];
        uint32_t weight = eevdf::weight_of_nice(nice);
        if (state.run_state == uint8_t(TaskRunState::Blocked)) {
            eevdf::reweight_blocked(state, weight);
        } else {
            eevdf::RunQueue queue = call.memory.queue(state.cpu);
            queue.charge_current(now_ns);
            queue.reweight(task, weight);
        }
        state.nice = nice;
        return Status::ok();
    }

    static Status select_task_cpu(void* context, uint32_t task, uint32_t previous_cpu,
                                  uint32_t* cpu) {
        Call call;
        if (Status status = begin(context, "select_task_cpu", &call); status.is_error()) {
            return status;
        }
        if (Status status = check_task(call, task); status.is_error()) return status;
        if (Status status = check_cpu(call, previous_cpu, "previous_cpu"); status.is_error()) {
            return status;
        }
        if (Status status = check_output(call, cpu, "cpu"); status.is_error()) return status;
        const TaskState& state = call.memory.tasks[task];
        if ((state.flags & eevdf::kPinnedFlag) != 0) {
            *cpu = state.cpu;
            return Status::ok();
        }
        // The previous CPU's caches may still hold the task: keep it there unless another
        // CPU has fewer runnable tasks (ties stay on the previous CPU, then the lowest id).
        uint32_t chosen = previous_cpu;
        uint32_t fewest = eevdf::RunQueue::runnable_count_of(call.memory.run_queues[previous_cpu]);
        for (uint32_t candidate = 0; candidate < call.memory.run_queue_count && fewest != 0;
             ++candidate) {
            uint32_t count = eevdf::RunQueue::runnable_count_of(call.memory.run_queues[candidate]);
            if (count < fewest) {
                fewest = count;
                chosen = candidate;
            }
        }
        *cpu = chosen;
        return Status::ok();
    }

    static Status find_busiest(void* context, uint32_t cpu, uint32_t* busiest_cpu) {
        Call call;
        if (Status status = begin(context, "find_busiest", &call); status.is_error()) {
            return status;
        }
        if (Status status = check_cpu(call, cpu, "cpu"); status.is_error()) return status;
        if (Status status = check_output(call, busiest_cpu, "busiest_cpu"); status.is_error()) {
            return status;
        }
        // Moving a task only helps when the other queue has at least two more runnable
        // tasks; with one more, the task would just be ping-ponged back.
        uint64_t threshold =
            uint64_t(eevdf::RunQueue::runnable_count_of(call.memory.run_queues[cpu])) + 2;
        uint32_t chosen = kNone;
        uint32_t most = 0;
        for (uint32_t candidate = 0; candidate < call.memory.run_queue_count; ++candidate) {
            if (candidate == cpu) continue;
            const RunQueueState& queue = call.memory.run_queues[candidate];
            uint32_t count = eevdf::RunQueue::runnable_count_of(queue);
            if (count >= threshold && count > most &&
                eevdf::RunQueue::stealable_count_of(queue) > 0) {
                most = count;
                chosen = candidate;
            }
        }
        *busiest_cpu = chosen;
        return Status::ok();
    }

    static Status steal(void* context, uint32_t from_cpu, uint32_t to_cpu, uint64_t now_ns,
                        uint32_t* task) {
        Call call;
        if (Status status = begin(context, "steal", &call); status.is_error()) return status;
        if (Status status = check_cpu(call, from_cpu, "from_cpu"); status.is_error()) return status;
        if (Status status = check_cpu(call, to_cpu, "to_cpu"); status.is_error()) return status;
        if (Status status = check_output(call, task, "task"); status.is_error()) return status;
        if (from_cpu == to_cpu) {
            return refuse(context, UMKA_KABI_EINVAL,
                          text_for(call).add("from_cpu and to_cpu are both ").number(to_cpu));
        }
        eevdf::RunQueue from = call.memory.queue(from_cpu);
        eevdf::RunQueue to = call.memory.queue(to_cpu);
        from.charge_current(now_ns);
        to.charge_current(now_ns);
        // find_busiest read the counts without the locks; they may have changed since.
        // Not an error: the caller just finds nothing to do (so nothing is logged).
        const RunQueueState& from_state = call.memory.run_queues[from_cpu];
        const RunQueueState& to_state = call.memory.run_queues[to_cpu];
        uint32_t victim = from.steal_candidate();
        if (victim == kNone ||
            uint64_t(from_state.runnable_count) < uint64_t(to_state.runnable_count) + 2) {
            return UMKA_KABI_EAGAIN;
        }
        from.remove(victim);
        to.place(victim, policy::WakeReason::Preempted);
        call.memory.run_queues[to_cpu].tasks_stolen += 1;
        *task = victim;
        return Status::ok();
    }

    static Status task_info(void* context, uint32_t task, policy::TaskInfo* out) {
        Call call;
        if (Status status = begin(context, "task_info", &call); status.is_error()) return status;
        if (Status status = check_task(call, task); status.is_error()) return status;
        if (Status status = check_output(call, out, "info"); status.is_error()) return status;
        const TaskState& state = call.memory.tasks[task];
        *out = policy::TaskInfo{};
        out->state = policy::TaskRunState(state.run_state);
        out->nice = state.nice;
        out->flags = policy::TaskFlags(state.flags);
        out->cpu = state.cpu;
        out->weight = state.weight;
        out->virtual_runtime = state.virtual_runtime;
        out->virtual_deadline = state.virtual_deadline;
        out->virtual_lag = state.virtual_lag;
        if (state.run_state != uint8_t(TaskRunState::Blocked)) {
            out->virtual_lag =
                int64_t(call.memory.queue(state.cpu).virtual_time() - state.virtual_runtime);
        }
        out->received_ns = state.received_ns;
        return Status::ok();
    }

    static Status run_queue_info(void* context, uint32_t cpu, policy::RunQueueInfo* out) {
        Call call;
        if (Status status = begin(context, "run_queue_info", &call); status.is_error()) {
            return status;
        }
        if (Status status = check_cpu(call, cpu, "cpu"); status.is_error()) return status;
        if (Status status = check_output(call, out, "info"); status.is_error()) return status;
        const RunQueueState& state = call.memory.run_queues[cpu];
        eevdf::RunQueue queue = call.memory.queue(cpu);
        *out = policy::RunQueueInfo{};
        out->virtual_time = queue.virtual_time();
        out->total_weight = queue.total_weight();
        out->current_task = queue.current();
        out->runnable_count = state.runnable_count;
        out->stealable_count = state.stealable_count;
        out->context_switches = state.context_switches;
        out->tasks_stolen = state.tasks_stolen;
        return Status::ok();
    }
};
static_assert(__is_empty(SchedulerPolicy), "module code keeps no state of its own");

constexpr policy::SchedulerPolicyVtable scheduler_policy_vtable =
    policy::make_scheduler_policy_vtable<SchedulerPolicy>();

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_SCHEDULER();

UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, module::kRequiredCount, module::kProvidedCount,
                                     module::kStateCount)) {
        return UMKA_KABI_EINVAL;
    }
    void* context = binding;
    if (umka::kabi::module_state<SchedulerGlobals>(binding, module::kGlobals) == nullptr) {
        LineText text;
        text.add("the SchedulerGlobals region is missing or smaller than ")
            .number(sizeof(SchedulerGlobals))
            .add(" bytes");
        return refuse(context, UMKA_KABI_EINVAL, text).code();
    }
    const UmkaStateRegion& region = binding->states[module::kGlobals];
    if (region.schema_version != schema::scheduler_globals_version) {
        LineText text;
        text.add("SchedulerGlobals version ")
            .number(region.schema_version)
            .add(" is not this module's ")
            .number(schema::scheduler_globals_version);
        return refuse(context, UMKA_KABI_EINVAL, text).code();
    }
    // Carried from a previous instance: the arrays it was attached to are still the
    // nucleus's; check them before any call trusts them.
    const SchedulerGlobals& globals = module::globals_of(context);
    if (region.origin == UMKA_STATE_ORIGIN_CARRIED && globals.run_queue_count != 0) {
        if (Status status =
                module::check_consistency(context, "carried state", module::memory_of(globals));
            status.is_error()) {
            return status.code();
        }
    }
    // A successor of another instance (a live swap) takes over SchedulerGlobals through
    // import_globals (the binding check above guarantees the field exists).
    if (int32_t status = umka_module_set_state_import(binding, module::import_globals);
        status != UMKA_KABI_OK) {
        return status;
    }
    return umka_module_provide(binding, module::kSchedulerPolicy, &scheduler_policy_vtable,
                               binding);
}
