#include "nucleus/sched/policy_swap.h"

#include <arch/cpu.h>

#include "nucleus/evolution/state_snapshot.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/sched/scheduler_internal.h"
#include "nucleus/smp/cpu_table.h"

namespace umka::sched {
namespace {

using namespace internal;

// One swap at a time (the evolution engine serialises).
struct PendingSwap {
    policy_api::SchedulerPolicyRef next;
    PolicyMemory memory;   // the replacement's arrays
    PolicyMemory retired;  // the previous policy's, freed by finish
    // Validate's copy of the live arrays, which the replacement's arrays were built from;
    // the pause compares the live arrays with it.
    void* snapshot_queues;
    void* snapshot_tasks;
    uint64_t snapshot_task_bytes;  // the live task array's size when prepare sized the copies
    PolicySwapFacts facts;
};
constinit PendingSwap pending{};

void release_all(void*& first, void*& second) {
    loader::free_zeroed(first);
    loader::free_zeroed(second);
    first = second = nullptr;
}

Status refused(modules::Diagnostic& diagnostic, const char* call, umka::kabi::Status status) {
    return modules::refuse(
        diagnostic, Errno::InvalidArgument,
        "the replacement scheduler policy refused %s (%s; its log line says why)", call,
        errno_name(Errno(status.code())));
}

bool same_task(const policy_api::TaskInfo& before, const policy_api::TaskInfo& after) {
    return before.state == after.state && before.nice == after.nice &&
           before.flags == after.flags && before.cpu == after.cpu &&
           before.weight == after.weight && before.virtual_runtime == after.virtual_runtime &&
           before.virtual_deadline == after.virtual_deadline &&
           before.virtual_lag == after.virtual_lag && before.received_ns == after.received_ns;
}

bool same_queue(const policy_api::RunQueueInfo& before, const policy_api::RunQueueInfo& after) {
    return before.virtual_time == after.virtual_time && before.total_weight == after.total_weight &&
           before.current_task == after.current_task &&
           before.runnable_count == after.runnable_count &&
           before.stealable_count == after.stealable_count;
}

// Every task slot and run queue as the old policy (still attached to the old arrays) and
// the new one (attached to the imported arrays) see it: migrated, not assumed.
Status compare_views(const policy_api::SchedulerPolicyRef& old_policy,
                     const policy_api::SchedulerPolicyRef& new_policy,
                     modules::Diagnostic& diagnostic) {
    uint32_t tasks_compared = 0;
    for (uint32_t slot = 0; slot < detail::task_capacity(); ++slot) {
        // Only the tasks the nucleus has: asking about a free slot is an error the policy logs.
        if (detail::task_at(slot).state.load(std::memory_order_relaxed) == TaskState::Free)
            continue;
        policy_api::TaskInfo before{};
        policy_api::TaskInfo after{};
        bool old_known = old_policy.task_info(uint32_t(slot), &before).is_ok();
        bool new_known = new_policy.task_info(uint32_t(slot), &after).is_ok();
        if (!old_known || !new_known || !same_task(before, after)) {
            return modules::refuse(diagnostic, Errno::BadMessage,
                                   "task %u changed in the migration: vruntime %lu -> %lu, lag %ld "
                                   "-> %ld, nice %d -> %d, cpu %u -> %u",
                                   slot, before.virtual_runtime, after.virtual_runtime,
                                   before.virtual_lag, after.virtual_lag, int(before.nice),
                                   int(after.nice), before.cpu, after.cpu);
        }
        ++tasks_compared;
    }
    for (uint32_t cpu = 0; cpu < cpu_table().count(); ++cpu) {
        policy_api::RunQueueInfo before{};
        policy_api::RunQueueInfo after{};
        if (old_policy.run_queue_info(cpu, &before).is_error() ||
            new_policy.run_queue_info(cpu, &after).is_error() || !same_queue(before, after)) {
            return modules::refuse(diagnostic, Errno::BadMessage,
                                   "run queue %u changed in the migration: V %lu -> %lu, weight "
                                   "%lu -> %lu, runnable %u -> %u",
                                   cpu, before.virtual_time, after.virtual_time,
                                   before.total_weight, after.total_weight, before.runnable_count,
                                   after.runnable_count);
        }
    }
    pending.facts.tasks_compared = tasks_compared;
    pending.facts.queues_compared = cpu_table().count();
    return Status::ok();
}

}  // namespace

Status policy_swap_prepare(const UmkaProvidedInterface& replacement,
                           modules::Diagnostic& diagnostic) {
    if (!running()) {
        return modules::refuse(diagnostic, Errno::NoFunction, "the scheduler is not running");
    }
    pending = PendingSwap{};
    const auto* vtable = static_cast<const policy_api::SchedulerPolicyVtable*>(replacement.vtable);
    if (umka::kabi::Status bound =
            policy_api::SchedulerPolicyRef::bind(vtable, replacement.context, &pending.next);
        bound.is_error()) {
        return refused(diagnostic, "binding (interface too old)", bound);
    }
    policy_api::PolicyLayout layout{};
    if (umka::kabi::Status status = pending.next.layout(&layout); status.is_error()) {
        return refused(diagnostic, "layout", status);
    }
    uint32_t cpu_count = cpu_table().count();
    uint64_t queue_bytes = uint64_t(layout.run_queue_state_size) * cpu_count;
    uint64_t task_bytes = uint64_t(layout.task_state_size) * detail::task_capacity();
    const PolicyMemory& live = policy_memory;
    Result<void*> memory[4] = {
        loader::allocate_zeroed(queue_bytes), loader::allocate_zeroed(task_bytes),
        loader::allocate_zeroed(live.run_queue_bytes), loader::allocate_zeroed(live.task_bytes)};
    void* pointers[4] = {};
    bool complete = true;
    for (size_t index = 0; index < 4; ++index) {
        if (memory[index].is_ok()) pointers[index] = memory[index].value();
        complete = complete && memory[index].is_ok();
    }
    pending.memory = PolicyMemory{pointers[0], queue_bytes, pointers[1], task_bytes, layout};
    pending.snapshot_queues = pointers[2];
    pending.snapshot_tasks = pointers[3];
    pending.snapshot_task_bytes = live.task_bytes;
    pending.facts.old_task_version = live.layout.task_state_version;
    pending.facts.new_task_version = layout.task_state_version;
    if (!complete) {
        policy_swap_abandon();
        return modules::refuse(diagnostic, Errno::OutOfMemory,
                               "no memory for the replacement policy's arrays (%lu + %lu bytes)",
                               queue_bytes, task_bytes);
    }
    return Status::ok();
}

namespace {

// A consistent snapshot of the live arrays (every run-queue lock, in CPU-id order,
// interrupts off), then, when `attach` says so, the replacement's arrays attached, and the
// snapshot imported into them: the policy's full consistency check runs in the import.
Status build_from_snapshot(PauseWork attach, modules::Diagnostic& diagnostic) {
    const PolicyMemory& live = policy_memory;
    arch::InterruptState interrupts = arch::save_and_disable_interrupts();
    uint32_t cpu_count = cpu_table().count();
    for (uint32_t cpu = 0; cpu < cpu_count; ++cpu) (void)cpus[cpu].lock.lock();
    // The task table may have grown since prepare sized the copies: then start over.
    bool grown = live.task_bytes != pending.snapshot_task_bytes;
    if (!grown) {
        __builtin_memcpy(pending.snapshot_queues, live.run_queues, live.run_queue_bytes);
        __builtin_memcpy(pending.snapshot_tasks, live.tasks, live.task_bytes);
    }
    for (uint32_t cpu = cpu_count; cpu-- > 0;)
        cpus[cpu].lock.unlock(arch::InterruptState::Disabled);
    arch::restore_interrupts(interrupts);
    if (grown) {
        return modules::refuse(diagnostic, Errno::TryAgain,
                               "the task table grew while the swap was prepared; try again");
    }

    const policy_api::PolicyLayout& layout = pending.memory.layout;
    if (attach == PauseWork::Rebuilt) {
        if (umka::kabi::Status status =
                pending.next.attach(pending.memory.run_queues, pending.memory.run_queue_bytes,
                                    pending.memory.tasks, pending.memory.task_bytes);
            status.is_error()) {
            return refused(diagnostic, "attach", status);
        }
    }
    if (umka::kabi::Status status = pending.next.import_states(
            pending.snapshot_queues, live.run_queue_bytes, live.layout.run_queue_state_version,
            pending.snapshot_tasks, live.task_bytes, live.layout.task_state_version);
        status.is_error()) {
        return modules::refuse(diagnostic, Errno::InvalidArgument,
                               "the replacement scheduler policy refused to import the run queues "
                               "(versions %u/%u -> %u/%u): %s",
                               live.layout.run_queue_state_version, live.layout.task_state_version,
                               layout.run_queue_state_version, layout.task_state_version,
                               errno_name(Errno(status.code())));
    }
    return Status::ok();
}

bool snapshot_current() {
    const PolicyMemory& live = policy_memory;
    return live.task_bytes == pending.snapshot_task_bytes &&
           evolution::same_bytes(live.run_queues, pending.snapshot_queues, live.run_queue_bytes) &&
           evolution::same_bytes(live.tasks, pending.snapshot_tasks, live.task_bytes);
}

}  // namespace

Status policy_swap_dry_run(modules::Diagnostic& diagnostic) {
    return build_from_snapshot(PauseWork::Rebuilt, diagnostic);
}

Status policy_swap_refresh(PauseWork regions, modules::Diagnostic& diagnostic) {
    // Read without the locks: a torn read only costs a needless rebuild or leaves the
    // decision to the pause, which compares again with every CPU stopped.
    if (regions == PauseWork::CommitOnly && snapshot_current()) return Status::ok();
    return build_from_snapshot(regions, diagnostic);
}

// Inside the pause. The arrays built in validate stand when the live arrays still hold the
// snapshot's bytes (import_states is a pure function of them) and the replacement's own
// state regions were not imported again (that would undo the attach): then nothing is
// imported here. Otherwise attach and import the live arrays, as the whole swap used to.
// With no other CPU online the refresh right before the pause settled it (`since`).
Status policy_swap_commit(StateCheck check, PauseWork regions, SinceRefresh since,
                          modules::Diagnostic& diagnostic) {
    const PolicyMemory& live = policy_memory;
    if (live.task_bytes != pending.snapshot_task_bytes) {
        return modules::refuse(diagnostic, Errno::TryAgain,
                               "the task table grew while the swap was prepared; try again");
    }
    bool current = regions == PauseWork::CommitOnly &&
                   (since == SinceRefresh::Unchanged || snapshot_current());
    pending.facts.work = current ? PauseWork::CommitOnly : PauseWork::Rebuilt;
    if (!current) {
        if (umka::kabi::Status status =
                pending.next.attach(pending.memory.run_queues, pending.memory.run_queue_bytes,
                                    pending.memory.tasks, pending.memory.task_bytes);
            status.is_error()) {
            return refused(diagnostic, "attach", status);
        }
        if (umka::kabi::Status status = pending.next.import_states(
                live.run_queues, live.run_queue_bytes, live.layout.run_queue_state_version,
                live.tasks, live.task_bytes, live.layout.task_state_version);
            status.is_error()) {
            return refused(diagnostic, "import_states", status);
        }
    }
    if (check == StateCheck::CompareEveryTask) {
        uint64_t start = arch::read_cycle_counter();
        Status compared = compare_views(policy, pending.next, diagnostic);
        pending.facts.check_cycles = arch::read_cycle_counter() - start;
        TRY(compared);
    }
    return Status::ok();
}

void policy_swap_switch() {
    pending.retired = policy_memory;
    policy_memory = pending.memory;
    pending.memory = PolicyMemory{};
    policy = pending.next;
}

void policy_swap_finish() {
    release_all(pending.retired.run_queues, pending.retired.tasks);
    release_all(pending.snapshot_queues, pending.snapshot_tasks);
}

void policy_swap_abandon() {
    release_all(pending.memory.run_queues, pending.memory.tasks);
    policy_swap_finish();
}

PolicySwapFacts policy_swap_facts() {
    return pending.facts;
}

namespace {
evolution::PauseHookFacts policy_swap_hook_facts() {
    PolicySwapFacts facts = policy_swap_facts();
    return {facts.tasks_compared,   facts.queues_compared, facts.old_task_version,
            facts.new_task_version, facts.check_cycles,    facts.work};
}

constexpr evolution::PauseHook kPolicyHook{
    "scheduler_policy",  "SchedulerPolicy",     policy_swap_prepare, policy_swap_dry_run,
    policy_swap_refresh, policy_swap_commit,    policy_swap_switch,  policy_swap_finish,
    policy_swap_abandon, policy_swap_hook_facts};
}  // namespace

Status register_policy_swap_hook() {
    return evolution::register_pause_hook(kPolicyHook);
}

}  // namespace umka::sched
