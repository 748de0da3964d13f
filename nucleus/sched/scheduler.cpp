#include "nucleus/sched/scheduler.h"

#include <arch/context.h>
#include <arch/cpu.h>
#include <arch/memory.h>

#include <new>

#include "nucleus/boot/timeline.h"
#include "nucleus/introspection/introspection.h"
#include "nucleus/introspection/record_text.h"
#include "nucleus/lib/log.h"
#include "nucleus/lib/spinlock.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/sched/handle_table.h"
#include "nucleus/sched/policy_swap.h"
#include "nucleus/sched/scheduler_internal.h"
#include "nucleus/smp/cpu_table.h"
#include "nucleus/time/clock.h"
#include "umka/kabi/scheduler_policy.hpp"

namespace umka::sched {

namespace internal {
constinit policy_api::SchedulerPolicyRef policy;
constinit CpuScheduler* cpus = nullptr;
constinit PolicyMemory policy_memory{};
}  // namespace internal

namespace {

using namespace internal;

constexpr uint32_t kNone = 0xFFFFFFFFu;
// Task slots per CPU at start-up; the table grows by as many again whenever every slot is
// in use (task_slots.cpp).
constexpr size_t kTaskSlotsPerCpu = 64;
constexpr size_t kStackBytes = 16 * 1024;
// The console is interactive: a higher weight keeps it responsive while workloads run
// on its CPU (nice -10 is about 9x the weight of nice 0).
constexpr int8_t kConsoleNice = -10;

constinit std::atomic<bool> started{false};
constinit SpinLock slot_lock{LockLevel::TaskSlots};  // slot allocation only

uint32_t this_cpu() {
    return arch::current_cpu_index();
}

void report(const char* call, umka::kabi::Status status) {
    if (status.is_error()) log("sched: %s failed: %s\n", call, errno_name(Errno(status.code())));
}

// Runs on the resumed side of every switch, interrupts off: the task we left is now saved,
// so it may be enqueued elsewhere; an exited one gives its slot back to the policy, and
// to the next spawn unless a join is to collect its exit status first.
void finish_switch() {
    CpuScheduler& cpu = cpus[this_cpu()];
    Task* previous = cpu.switching_from;
    cpu.switching_from = nullptr;
    if (previous == nullptr) return;
    if (previous->state.load(std::memory_order_relaxed) != TaskState::Exited) {
        previous->on_cpu.store(0, std::memory_order_release);
        return;
    }
    report("task_exit", policy.task_exit(previous->slot));
    if (previous->reaping == Reaping::OnExit) {
        previous->generation.store(
            next_generation(previous->generation.load(std::memory_order_relaxed)),
            std::memory_order_relaxed);
        previous->state.store(TaskState::Free, std::memory_order_release);
        previous->on_cpu.store(0, std::memory_order_release);
        return;
    }
    previous->on_cpu.store(0, std::memory_order_release);
    previous->state.store(TaskState::Zombie, std::memory_order_release);
    // No switch from here: this context is itself only half resumed.
    (void)previous->exit_waiters.wake(0xFFFFFFFFu, LocalPreemption::Deferred);
}

// Called with rq(cpu) held and interrupts off; releases the lock before switching.
void switch_to(uint32_t cpu_index, Task* next) {
    CpuScheduler& cpu = cpus[cpu_index];
    cpu.lock.assert_held();
    Task* previous = cpu.current;
    if (next == previous) {
        cpu.lock.unlock(arch::InterruptState::Disabled);
        return;
    }
    // `next` may have left another CPU a moment ago (preempted there, still runnable, then
    // stolen by this CPU or picked after a migration): its stack pointer is saved only
    // when that CPU's finish_switch clears on_cpu. Resuming it before then would pop a
    // stale stack (seen as a #GP on iretq with RFLAGS.NT set, from popfq of a non-RFLAGS
    // word). That CPU clears on_cpu without taking a run-queue lock, so waiting here
    // under ours cannot deadlock.
    while (next->on_cpu.load(std::memory_order_acquire) != 0) arch::cpu_relax();
    next->on_cpu.store(1, std::memory_order_relaxed);
    if (next != &cpu.idle) next->state.store(TaskState::Running, std::memory_order_relaxed);
    next->cpu = cpu_index;
    ++next->switches;
    __atomic_store_n(&next->slot_runs, next->slot_runs + 1, __ATOMIC_RELEASE);
    __atomic_store_n(&cpu.switch_ins, cpu.switch_ins + 1, __ATOMIC_RELEASE);
    TaskState previous_state = previous->state.load(std::memory_order_relaxed);
    if (previous != &cpu.idle && previous_state == TaskState::Running) {
        previous->state.store(TaskState::Runnable, std::memory_order_relaxed);
    }
    cpu.current = next;
    cpu.switching_from = previous;
    cpu.lock.unlock(arch::InterruptState::Disabled);
    verify_no_spin_lock_held("a context switch");
    arch::arch_switch_stacks(&previous->stack_pointer, next->stack_pointer);
    finish_switch();
}

// Interrupts off. Picks and switches on this CPU.
void reschedule(uint32_t cpu_index) {
    CpuScheduler& cpu = cpus[cpu_index];
    (void)cpu.lock.lock();
    uint32_t next = kNone;
    report("pick_next_task", policy.pick_next_task(cpu_index, now_ns(), &next));
    switch_to(cpu_index, next == kNone ? &cpu.idle : &detail::task_at(next));
}

void signal_cpu(uint32_t cpu_index) {
    if (cpu_index == this_cpu()) {
        reschedule(cpu_index);
    } else {
        arch::send_reschedule_interrupt(cpu_table()[cpu_index].hardware_id);
    }
}

// Work stealing for an idle CPU: locks in CPU-id order, as the policy requires.
void try_steal(uint32_t cpu_index) {
    uint32_t busiest = kNone;
    if (policy.find_busiest(cpu_index, &busiest).is_error() || busiest == kNone ||
        busiest == cpu_index) {
        return;
    }
    CpuScheduler& first = cpus[busiest < cpu_index ? busiest : cpu_index];
    CpuScheduler& second = cpus[busiest < cpu_index ? cpu_index : busiest];
    (void)first.lock.lock();
    (void)second.lock.lock();
    uint32_t task = kNone;
    if (policy.steal(busiest, cpu_index, now_ns(), &task).is_ok() && task != kNone) {
        detail::task_at(task).cpu = cpu_index;
    }
    second.lock.unlock(arch::InterruptState::Disabled);
    first.lock.unlock(arch::InterruptState::Disabled);
}

[[noreturn]] void idle_loop() {
    for (;;) {
        (void)arch::save_and_disable_interrupts();
        uint32_t cpu_index = this_cpu();
        try_steal(cpu_index);
        reschedule(cpu_index);
        arch::wait_for_interrupt();
    }
}

void start_task(uint64_t slot) {
    finish_switch();
    arch::enable_interrupts();
    Task& task = detail::task_at(uint32_t(slot));
    exit_current(task.runner != nullptr ? task.runner(task.entry, task.argument)
                                        : task.entry(task.argument));
}

void start_idle(uint64_t) {
    finish_switch();
    idle_loop();
}

Result<void*> zeroed(size_t bytes) {
    return loader::allocate_zeroed(bytes);
}

}  // namespace

uint64_t deadline_after(uint64_t nanoseconds) {
    uint64_t now = now_ns();
    return nanoseconds > ~uint64_t(0) - now ? ~uint64_t(0) : now + nanoseconds;
}

namespace detail {

policy_api::SchedulerPolicyRef& policy_module() {
    return policy;
}

}  // namespace detail

uint64_t now_ns() {
    return clock::cycles_to_nanoseconds(arch::read_cycle_counter() - timeline::entry_cycles());
}

namespace detail {

Task* current_on_this_cpu() {
    return cpus[this_cpu()].current;
}

// Takes the calling task off its CPU unless it was woken meanwhile. The waker decides under
// the same run-queue lock (see wake), so exactly one of them acts.
void block_current() {
    uint32_t cpu_index = this_cpu();
    CpuScheduler& cpu = cpus[cpu_index];
    Task* task = cpu.current;
    (void)cpu.lock.lock();
    if (task->state.load(std::memory_order_acquire) != TaskState::Blocked) {
        cpu.lock.unlock(arch::InterruptState::Disabled);
        return;
    }
    uint64_t now = now_ns();
    report("dequeue_task", policy.dequeue_task(cpu_index, task->slot, now));
    uint32_t next = kNone;
    report("pick_next_task", policy.pick_next_task(cpu_index, now, &next));
    switch_to(cpu_index, next == kNone ? &cpu.idle : &detail::task_at(next));
}

// Makes a blocked task runnable. If it has not left its CPU yet, it simply keeps running;
// otherwise it is enqueued once its context is saved (on_cpu), never before.
void begin_wait(Task* task) {
    task->wait_sequence.fetch_add(1, std::memory_order_relaxed);
}

void wake(Task* task, uint32_t wait_sequence, LocalPreemption preemption) {
    uint32_t unclaimed = wait_sequence - 1;
    if (!task->woken_sequence.compare_exchange_strong(unclaimed, wait_sequence,
                                                      std::memory_order_acq_rel)) {
        return;  // another waker took this wait, or the wait is over
    }
    TaskState expected = TaskState::Blocked;
    if (!task->state.compare_exchange_strong(expected, TaskState::Running,
                                             std::memory_order_acq_rel)) {
        return;  // not blocked (already woken, or never slept)
    }
    arch::InterruptState interrupts = arch::save_and_disable_interrupts();
    uint32_t home = task->cpu;
    (void)cpus[home].lock.lock();
    bool still_current = cpus[home].current == task;
    cpus[home].lock.unlock(arch::InterruptState::Disabled);
    if (!still_current) {
        task->state.store(TaskState::Runnable, std::memory_order_release);
        while (task->on_cpu.load(std::memory_order_acquire) != 0) arch::cpu_relax();
        uint32_t target = home;
        report("select_task_cpu", policy.select_task_cpu(task->slot, home, &target));
        task->cpu = target;
        (void)cpus[target].lock.lock();
        uint8_t preempt = 0;
        report("enqueue_task",
               policy.enqueue_task(target, task->slot, policy_api::WakeReason::Unblocked, now_ns(),
                                   &preempt));
        cpus[target].lock.unlock(arch::InterruptState::Disabled);
        if (preempt != 0 && (target != this_cpu() || preemption == LocalPreemption::Allowed)) {
            signal_cpu(target);
        }
    }
    arch::restore_interrupts(interrupts);
}

}  // namespace detail

const char* task_state_name(TaskState state) {
    switch (state) {
    case TaskState::Free:
        return "free";
    case TaskState::Runnable:
        return "runnable";
    case TaskState::Running:
        return "running";
    case TaskState::Blocked:
        return "blocked";
    case TaskState::Exited:
        return "exited";
    case TaskState::Zombie:
        return "zombie";
    }
    return "?";
}

bool running() {
    return started.load(std::memory_order_acquire);
}

Status initialize() {
    // A live swap of the policy module migrates the arrays the nucleus keeps for it.
    if (Status hooked = register_policy_swap_hook(); hooked.is_error())
        log("sched: no pause hook for policy swaps (%s)\n", errno_name(hooked.error()));
    loader::ModuleSystem& system = loader::module_system();
    if (!system.initialized()) return Errno::NotFound;
    Result<UmkaServiceSlot*> slot =
        system.registry().find("scheduler_policy", "SchedulerPolicy", nullptr);
    if (slot.is_error()) return Errno::NotFound;
    if (umka::kabi::bind_service(slot.value(), &policy).is_error()) return Errno::InvalidArgument;
    // Recorded as a binding of the nucleus, so a live replacement of the policy must provide
    // at least the version this header needs (evolution's replacement rule).
    modules::Diagnostic diagnostic;
    if (system.registry()
            .bind(modules::kNucleusProviderName, 0, slot.value(),
                  policy_api::SchedulerPolicyRef::interface_version, diagnostic)
            .is_error()) {
        return Errno::InvalidArgument;
    }

    policy_api::PolicyLayout layout{};
    if (policy.layout(&layout).is_error()) return Errno::InvalidArgument;
    uint32_t cpu_count = cpu_table().count();
    uint32_t task_capacity = uint32_t(kTaskSlotsPerCpu) * cpu_count;
    uint64_t queue_bytes = uint64_t(layout.run_queue_state_size) * cpu_count;
    uint64_t task_bytes = uint64_t(layout.task_state_size) * task_capacity;
    void* queues = TRY(zeroed(queue_bytes));
    void* task_states = TRY(zeroed(task_bytes));
    if (policy.attach(queues, queue_bytes, task_states, task_bytes).is_error())
        return Errno::InvalidArgument;
    policy_memory = PolicyMemory{queues, queue_bytes, task_states, task_bytes, layout};
    TRY(detail::initialize_task_slots(task_capacity));

    cpus = static_cast<CpuScheduler*>(TRY(zeroed(cpu_count * sizeof(CpuScheduler))));
    for (uint32_t index = 0; index < cpu_count; ++index) {
        // Zero-filled memory: the lock gets its level and its place in CPU-id order here.
        VERIFY(index <= 0xFFFF);  // the ordinal is 16 bits wide
        new (&cpus[index].lock) SpinLock(LockLevel::RunQueue, uint16_t(index));
        Task& idle = cpus[index].idle;
        idle.slot = kNone;
        __builtin_memcpy(idle.name, "idle", 5);
        idle.cpu = index;
        cpus[index].current = &idle;
    }

    // The boot CPU's current context (the console) becomes task 0, pinned to CPU 0; the
    // boot CPU gets an idle context of its own. Secondary CPUs idle on their boot stacks.
    uint64_t idle_stack = TRY(arch::allocate_kernel_stack(kStackBytes));
    cpus[0].idle.stack_pointer = arch::prepare_thread_stack(idle_stack, start_idle, 0);
    Task& console = detail::task_at(0);
    __builtin_memcpy(console.name, "console", 8);
    console.stack_top = arch::boot_stack_top_containing(
        uint64_t(__builtin_frame_address(0)));  // for scans of its stack (evolution)
    console.state.store(TaskState::Running, std::memory_order_relaxed);
    console.on_cpu.store(1, std::memory_order_relaxed);
    arch::InterruptState interrupts = arch::save_and_disable_interrupts();
    uint8_t preempt = 0;
    uint32_t picked = kNone;
    Status status = Status::ok();
    if (policy.task_create(0, kConsoleNice, 0, policy_api::TaskFlags::Pinned).is_error() ||
        policy.enqueue_task(0, 0, policy_api::WakeReason::Created, now_ns(), &preempt).is_error() ||
        policy.pick_next_task(0, now_ns(), &picked).is_error() || picked != 0) {
        status = Errno::InvalidArgument;
    } else {
        cpus[0].current = &console;
        started.store(true, std::memory_order_release);
    }
    arch::restore_interrupts(interrupts);
    return status;
}

Result<Task*> spawn(const char* name, TaskEntry entry, uint64_t argument,
                    const SpawnOptions& options) {
    if (!running()) return Errno::NoFunction;
    if (options.placement == Placement::Pinned && options.cpu >= cpu_table().count()) {
        return Errno::NoDeviceOrAddress;
    }
    uint32_t home = options.placement == Placement::Pinned ? options.cpu : this_cpu();
    Task* task = nullptr;
    for (;;) {
        uint32_t capacity = detail::task_capacity();
        {
            SpinLockGuard guard(slot_lock);
            for (uint32_t index = 1; index < capacity && task == nullptr; ++index) {
                Task& candidate = detail::task_at(index);
                if (candidate.state.load(std::memory_order_acquire) == TaskState::Free &&
                    candidate.on_cpu.load(std::memory_order_acquire) == 0) {
                    task = &candidate;
                    task->state.store(TaskState::Runnable, std::memory_order_relaxed);
                }
            }
        }
        if (task != nullptr) break;
        TRY(detail::grow_task_slots(capacity));
    }
    if (task->stack_top == 0) {
        Result<uint64_t> stack = arch::allocate_kernel_stack(kStackBytes);
        if (stack.is_error()) {
            task->state.store(TaskState::Free, std::memory_order_release);
            return stack.error();
        }
        task->stack_top = stack.value();  // kept with the slot for its next task
    }
    size_t length = 0;
    while (name[length] != '\0' && length + 1 < sizeof task->name) ++length;
    __builtin_memcpy(task->name, name, length);
    task->name[length] = '\0';
    task->entry = entry;
    task->argument = argument;
    task->runner = options.runner;
    task->recovery_point = nullptr;
    // A slot given back mid-call (not possible today: tasks end by returning) must not
    // hand its successor a note or a watchdog stamp.
    task->entering_code.store(0, std::memory_order_relaxed);
    task->watched_since.store(0, std::memory_order_relaxed);
    task->watched_module.store(nullptr, std::memory_order_relaxed);
    task->switches = 0;
    task->owner = options.owner;
    task->reaping = options.reaping;
    task->exit_status = 0;
    task->stack_pointer = arch::prepare_thread_stack(task->stack_top, start_task, task->slot);

    policy_api::TaskFlags flags = options.placement == Placement::Pinned
                                      ? policy_api::TaskFlags::Pinned
                                      : policy_api::TaskFlags(0);
    // Every policy call runs with interrupts off, so none spans a live swap's pause (the
    // policy Ref and the policy's state change inside it: docs/evolution.md).
    arch::InterruptState interrupts = arch::save_and_disable_interrupts();
    umka::kabi::Status created = policy.task_create(task->slot, options.nice, home, flags);
    if (created.is_error()) {
        task->state.store(TaskState::Free, std::memory_order_release);
        arch::restore_interrupts(interrupts);
        return Errno(created.code());
    }
    uint32_t target = home;
    if (options.placement == Placement::Anywhere) {
        report("select_task_cpu", policy.select_task_cpu(task->slot, home, &target));
    }
    task->cpu = target;
    (void)cpus[target].lock.lock();
    uint8_t preempt = 0;
    report("enqueue_task", policy.enqueue_task(target, task->slot, policy_api::WakeReason::Created,
                                               now_ns(), &preempt));
    cpus[target].lock.unlock(arch::InterruptState::Disabled);
    if (preempt != 0) signal_cpu(target);
    arch::restore_interrupts(interrupts);
    return task;
}

Result<Task*> spawn(const char* name, TaskEntry entry, uint64_t argument, int8_t nice,
                    Placement placement, uint32_t cpu) {
    return spawn(name, entry, argument,
                 SpawnOptions{nice, placement, cpu, Reaping::OnExit, kNucleusOwner});
}

Task* task_running_on(uint32_t cpu) {
    if (!running() || cpu >= cpu_table().count()) return nullptr;
    Task* task = __atomic_load_n(&cpus[cpu].current, __ATOMIC_ACQUIRE);
    return task == nullptr || task->slot == kNone ? nullptr : task;
}

Task* current_task() {
    if (!running()) return nullptr;
    arch::InterruptState interrupts = arch::save_and_disable_interrupts();
    Task* task = cpus[this_cpu()].current;
    arch::restore_interrupts(interrupts);
    return task->slot == kNone ? nullptr : task;  // an idle context is no task
}

uint64_t task_handle(const Task& task) {
    return SlotHandle::make(task.slot, task.generation.load(std::memory_order_acquire));
}

uint32_t cpu_count() {
    return cpu_table().count();
}

namespace {

struct JoinTarget {
    Task* task;
    uint32_t generation;
};

// A joiner stops waiting when its thread is a zombie or was reaped by another joiner.
bool exited_or_reaped(void* context) {
    auto* target = static_cast<JoinTarget*>(context);
    return target->task->generation.load(std::memory_order_acquire) != target->generation ||
           target->task->state.load(std::memory_order_acquire) == TaskState::Zombie;
}

}  // namespace

size_t transfer_threads(uint32_t from_owner, uint32_t to_owner) {
    size_t moved = 0;
    detail::for_each_task(detail::task_capacity(), [&](Task& task) {
        if (task.state.load(std::memory_order_acquire) != TaskState::Free &&
            task.owner == from_owner) {
            task.owner = to_owner;
            ++moved;
        }
        return true;
    });
    return moved;
}

Result<int32_t> join(uint64_t handle, uint32_t owner) {
    if (!running()) return Errno::InvalidArgument;
    uint32_t slot = handle_slot(handle, detail::task_capacity());
    if (slot == kNoSlot) return Errno::InvalidArgument;
    Task& task = detail::task_at(slot);
    if (&task == current_task()) return Errno::InvalidArgument;
    // Generation first and again last: the fields between belong to that generation.
    uint32_t generation = task.generation.load(std::memory_order_acquire);
    TaskState state = task.state.load(std::memory_order_acquire);
    SlotView view{state != TaskState::Free && task.reaping == Reaping::ByJoin, generation,
                  task.owner};
    if (check_handle(handle, view, owner) != HandleCheck::Valid ||
        task.generation.load(std::memory_order_acquire) != generation) {
        return Errno::InvalidArgument;
    }
    JoinTarget target{&task, generation};
    task.exit_waiters.wait(exited_or_reaped, &target);
    int32_t exit_status = task.exit_status;
    // Exactly one joiner moves the generation on; a concurrent one finds its handle stale.
    if (!task.generation.compare_exchange_strong(generation, next_generation(generation),
                                                 std::memory_order_acq_rel)) {
        return Errno::InvalidArgument;
    }
    task.state.store(TaskState::Free, std::memory_order_release);
    return exit_status;
}

void yield() {
    if (!running()) return;
    arch::InterruptState interrupts = arch::save_and_disable_interrupts();
    uint32_t cpu_index = this_cpu();
    (void)cpus[cpu_index].lock.lock();
    // One clock reading for both calls: the pick then charges nothing more.
    uint64_t now = now_ns();
    report("yield_current", policy.yield_current(cpu_index, now));
    uint32_t next = kNone;
    report("pick_next_task", policy.pick_next_task(cpu_index, now, &next));
    switch_to(cpu_index, next == kNone ? &cpus[cpu_index].idle : &detail::task_at(next));
    arch::restore_interrupts(interrupts);
}

void exit_current(int32_t exit_status) {
    (void)arch::save_and_disable_interrupts();
    uint32_t cpu_index = this_cpu();
    CpuScheduler& cpu = cpus[cpu_index];
    Task* task = cpu.current;
    task->exit_status = exit_status;
    (void)cpu.lock.lock();
    task->state.store(TaskState::Exited, std::memory_order_relaxed);
    uint64_t now = now_ns();
    report("dequeue_task", policy.dequeue_task(cpu_index, task->slot, now));
    uint32_t next = kNone;
    report("pick_next_task", policy.pick_next_task(cpu_index, now, &next));
    switch_to(cpu_index, next == kNone ? &cpu.idle : &detail::task_at(next));
    arch::halt_forever();  // an exited task is never resumed
}

void on_timer_interrupt() {
    if (!running()) return;
    detail::wake_expired_sleepers();
    uint32_t cpu_index = this_cpu();
    CpuScheduler& cpu = cpus[cpu_index];
    (void)cpu.lock.lock();
    uint8_t preempt = 0;
    report("timer_tick", policy.timer_tick(cpu_index, now_ns(), &preempt));
    cpu.lock.unlock(arch::InterruptState::Disabled);
    if (preempt != 0) reschedule(cpu_index);
}

void on_reschedule_interrupt() {
    if (running()) reschedule(this_cpu());
}

void run_idle() {
    // A secondary CPU's boot context becomes its idle context.
    idle_loop();
}

uint32_t thread_slot_count() {
    return running() ? detail::task_capacity() : 0;
}

Status thread_record(uint32_t slot, kabi::introspection::ThreadRecord& record) {
    if (!running() || slot >= detail::task_capacity()) return Errno::NotFound;
    Task& task = detail::task_at(slot);
    TaskState state = task.state.load(std::memory_order_acquire);
    if (state == TaskState::Free) return Errno::NotFound;
    record = kabi::introspection::ThreadRecord{};
    record.slot = task.slot;
    record.cpu = task.cpu;
    record.switches = task.switches;
    introspection::copy_text(record.state, task_state_name(state));
    introspection::copy_text(record.name, task.name);
    if (state == TaskState::Zombie) {
        // The policy has forgotten it; only the nucleus's record waits for join.
        record.zombie = 1;
        record.exit_status = task.exit_status;
        return Status::ok();
    }
    policy_api::TaskInfo info{};
    uint32_t cpu_index = task.cpu < cpu_table().count() ? task.cpu : 0;
    arch::InterruptState interrupts = cpus[cpu_index].lock.lock();
    (void)policy.task_info(task.slot, &info);
    cpus[cpu_index].lock.unlock(interrupts);
    record.nice = info.nice;
    record.virtual_runtime_us = info.virtual_runtime / 1000;
    record.lag_us = info.virtual_lag / 1000;
    return Status::ok();
}

}  // namespace umka::sched
