// Kernel threads: the nucleus's mechanism (task records, stacks, context switches, per-CPU
// run-queue locks, preemption from the timer, wake-up IPIs); every decision comes from the
// scheduler policy module (scheduler_policy.SchedulerPolicy, services/scheduler), whose
// per-CPU and per-task state is nucleus memory handed over at start-up.
//
// Lock order: a wait queue's lock (or the sleeper list's), then a CPU's run-queue lock, then
// (for stealing) a second one in CPU-id order.
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

enum class TaskState : uint8_t { Free, Runnable, Running, Blocked, Exited };
const char* task_state_name(TaskState state);

using TaskEntry = void (*)(void* argument);

struct Task {
    uint32_t slot;  // also the policy's task number
    char name[24];
    std::atomic<TaskState> state;
    std::atomic<uint8_t> on_cpu;  // 1 while a CPU may still be running on its stack
    uint32_t cpu;
    uint64_t stack_pointer;
    uint64_t stack_top;  // 0 for the console task (it runs on the boot stack)
    TaskEntry entry;
    void* argument;
    uint64_t switches;
    uint64_t wake_at_ns;  // while sleeping: when the timer wakes it
    Task* next_waiter;    // link in a wait queue or the sleeper list
};

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

private:
    SpinLock lock_;
    Task* first_ = nullptr;
    Task* last_ = nullptr;
};

enum class Placement : uint8_t { Anywhere, Pinned };

// Binds the policy module and makes the calling context (the boot CPU's console) task 0.
// NotFound when no module provides the policy: the system then runs without threads.
Status initialize();
bool running();

Result<Task*> spawn(const char* name, TaskEntry entry, void* argument, int8_t nice,
                    Placement placement, uint32_t cpu);
void yield();
// Blocks the calling task for at least `nanoseconds` (woken by a timer tick).
void sleep_ns(uint64_t nanoseconds);
// Ends the calling task.
[[noreturn]] void exit_current();

// Called by arch: a timer tick and a reschedule IPI on this CPU (interrupts off).
void on_timer_interrupt();
void on_reschedule_interrupt();

// A secondary CPU's idle loop, once the scheduler runs.
[[noreturn]] void run_idle();

void print_threads(console::TextOutput& out);

}  // namespace umka::sched
