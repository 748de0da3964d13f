// Kernel threads: the nucleus's mechanism (task records, stacks, context switches, per-CPU
// run-queue locks, preemption from the timer, wake-up IPIs); every decision comes from the
// scheduler policy module (scheduler_policy.SchedulerPolicy, services/scheduler), whose
// per-CPU and per-task state is nucleus memory handed over at start-up.
//
// Lock order: a wait queue's lock, then the sleeper list's, then a CPU's run-queue lock,
// then (for stealing) a second one in CPU-id order.
// Run-queue locks are taken with interrupts off and released before a context switch; a
// task's `on_cpu` flag keeps it from being enqueued elsewhere until its context is saved.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>

#include "nucleus/console/text_output.h"
#include "nucleus/lib/spinlock.h"
#include "nucleus/lib/status.h"

namespace umka::sched {

// Exited: off the policy but maybe still on its stack; Zombie: a thread that is waiting
// to be joined (its context is saved and its exit status kept).
enum class TaskState : uint8_t { Free, Runnable, Running, Blocked, Exited, Zombie };
const char* task_state_name(TaskState state);

// Returning from the entry ends the task with that exit status.
using TaskEntry = int32_t (*)(uint64_t argument);
// Runs a task's entry in its place when set (a module thread's: guarded by containment).
using TaskRunner = int32_t (*)(TaskEntry entry, uint64_t argument);

// Who gives an exited task's slot back: the scheduler at once (nucleus threads), or join.
enum class Reaping : uint8_t { OnExit, ByJoin };

// The owner id of nucleus threads (module owners are loader::ModuleRecord::owner, from 1).
constexpr uint32_t kNucleusOwner = 0;

struct Task;

// Whether waking a task may switch away from the waker's own context at once (when the
// policy says the woken task should preempt). Deferred is for wakers that must not switch
// (the resumed side of a switch); their CPU picks the woken task at its next tick.
enum class LocalPreemption : uint8_t { Allowed, Deferred };

// What a bounded wait ended with.
enum class WaitOutcome : uint8_t { NotBlocked, Woken, TimedOut };

// Tasks waiting for an event. `wait` blocks until `wake_one`/`wake_all` after the caller's
// condition was found false under the queue's lock, so a wake-up between the check and the
// block is never lost.
class WaitQueue {
public:
    constexpr WaitQueue() = default;
    // Blocks while `condition(context)` is false; rechecks after every wake-up.
    void wait(bool (*condition)(void* context), void* context);
    void wake_one();
    void wake_all();

    // One futex-style wait: blocks unless `should_block(context)` (called under the queue's
    // lock) says no, until wake() takes this task off the queue or the clock passes
    // `deadline_ns` (0: never). A task taken off by wake() reports Woken even if its
    // deadline passed meanwhile, so every wake() counted reaches a waiter.
    WaitOutcome wait_once(bool (*should_block)(void* context), void* context, uint64_t deadline_ns);
    // Takes up to `count` waiters off in arrival order and wakes them; how many.
    uint32_t wake(uint32_t count, LocalPreemption preemption = LocalPreemption::Allowed);
    bool has_waiters();

private:
    bool unlink(Task* task);  // under lock_: false if not queued

    SpinLock lock_{LockLevel::WaitQueue};
    Task* first_ = nullptr;
    Task* last_ = nullptr;
};

struct Task {
    uint32_t slot;  // also the policy's task number
    char name[24];
    std::atomic<TaskState> state;
    std::atomic<uint8_t> on_cpu;  // 1 while a CPU may still be running on its stack
    uint32_t cpu;
    uint64_t stack_pointer;
    uint64_t stack_top;  // 0 for the console task (it runs on the boot stack)
    TaskEntry entry;
    uint64_t argument;
    TaskRunner runner;  // nullptr: entry(argument) runs as it is
    uint64_t switches;
    // Switch-ins of this slot over every task it held, never reset: an unchanged count
    // proves nothing ran on the slot's stack since it was read (sched::prescan_saved).
    uint64_t slot_runs;
    uint64_t wake_at_ns;                   // while sleeping: when the timer wakes it
    Task* next_waiter;                     // link in a wait queue
    Task* next_sleeper;                    // link in the sleeper list (a timed wait is on both)
    std::atomic<uint32_t> wait_sequence;   // the current (or last) wait
    std::atomic<uint32_t> woken_sequence;  // the last wait a waker claimed
    // Moves on each time the slot is given back, so a handle to an earlier task is stale.
    std::atomic<uint32_t> generation;
    uint32_t owner;  // kNucleusOwner or the spawning module's owner id
    Reaping reaping;
    int32_t exit_status;     // valid once Zombie
    WaitQueue exit_waiters;  // join
    // The innermost guarded call this task is in (nucleus/containment), nullptr outside one.
    void* recovery_point = nullptr;
    // An address inside the module image this task is about to call into (the vtable of a
    // service record it loaded), 0 when none: a live swap's pause takes it for a return
    // address into that image (code_scan.h, note_entering).
    std::atomic<uint64_t> entering_code{0};
    // The watchdog's view (nucleus/containment): when this task's outermost watched guarded
    // call (a request or an interrupt handler) began, in cycles (0 outside one), and the
    // module it entered. Written by the task; read by other CPUs' ticks.
    std::atomic<uint64_t> watched_since{0};
    std::atomic<const char*> watched_module{nullptr};
    uint8_t watched_phase = 0;  // the containment::CrashPhase of that call
};

enum class Placement : uint8_t { Anywhere, Pinned };

// Binds the policy module and makes the calling context (the boot CPU's console) task 0.
// NotFound when no module provides the policy: the system then runs without threads.
Status initialize();
bool running();

struct SpawnOptions {
    int8_t nice;
    Placement placement;
    uint32_t cpu;  // Pinned: the CPU; Anywhere: ignored
    Reaping reaping;
    uint32_t owner;
    TaskRunner runner = nullptr;
};

// Errno::NoFunction without a policy, NoDeviceOrAddress for a CPU that does not exist,
// TryAgain when every task slot is in use.
Result<Task*> spawn(const char* name, TaskEntry entry, uint64_t argument,
                    const SpawnOptions& options);
Result<Task*> spawn(const char* name, TaskEntry entry, uint64_t argument, int8_t nice,
                    Placement placement, uint32_t cpu);
void yield();
// Blocks the calling task for at least `nanoseconds` (woken by a timer tick).
void sleep_ns(uint64_t nanoseconds);
// Ends the calling task with `exit_status`.
[[noreturn]] void exit_current(int32_t exit_status);

// The calling task (nullptr before the scheduler runs) and its handle, for Reaping::ByJoin
// tasks: handle_table.h's (generation << 32) | (slot + 1).
Task* current_task();
// The task CPU `cpu` runs now (nullptr: idle, no scheduler, or no such CPU): a snapshot that
// may be stale as soon as it is read. Task slots are never freed, so the pointer stays
// readable; a reader that acts on it checks again on that CPU.
Task* task_running_on(uint32_t cpu);
uint64_t task_handle(const Task& task);
// Waits for the ByJoin task `handle` of `owner` to exit, gives its slot back and returns its
// exit status. InvalidArgument for a handle that is malformed, stale, another owner's, the
// caller itself, or already being joined.
Result<int32_t> join(uint64_t handle, uint32_t owner);
// Gives every live task of `from_owner` to `to_owner` (a module's threads to the instance
// that replaced it, so that it can join them): how many.
size_t transfer_threads(uint32_t from_owner, uint32_t to_owner);
uint32_t cpu_count();
// The scheduler's clock: nanoseconds since boot (sleeps and timed waits are against it).
uint64_t now_ns();
// now_ns() + `nanoseconds`, saturating: an enormous timeout means "never", not "at once".
uint64_t deadline_after(uint64_t nanoseconds);

// Called by arch: a timer tick and a reschedule IPI on this CPU (interrupts off).
void on_timer_interrupt();
void on_reschedule_interrupt();

// A secondary CPU's idle loop, once the scheduler runs.
[[noreturn]] void run_idle();

}  // namespace umka::sched
