// Test plumbing for the scheduler module: PolicyUnderTest loads the real scheduler.elf
// through the host harness and plays the nucleus's part (allocates the arrays `layout`
// asks for, attaches them); Lockstep runs every call on the module and on the reference
// model (eevdf_model.h) and compares the answers and then every task and queue.
#pragma once

#include <gtest/gtest.h>
#include <stdint.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eevdf_model.h"
#include "module_harness.h"
#include "umka/kabi/scheduler_policy.hpp"
#include "umka/kabi/scheduler_state.hpp"

namespace umka::scheduler_test {

namespace policy = kabi::scheduler_policy;
using RunQueueState = kabi::scheduler::RunQueueState;
using TaskState = kabi::scheduler::TaskState;
using scheduler_model::kNone;

// Zeroed memory at an alignment, as the nucleus hands it over.
class AlignedBuffer {
public:
    AlignedBuffer() = default;
    AlignedBuffer(uint64_t size, uint64_t alignment);
    void* data() const { return memory_.get(); }
    uint64_t size() const { return size_; }

private:
    struct Free {
        void operator()(void* pointer) const;
    };
    std::unique_ptr<void, Free> memory_;
    uint64_t size_ = 0;
};

class PolicyUnderTest {
public:
    // Loads and binds the module under test (or the module file at `path`, in a harness of
    // its own); check with loaded() (the reason is in reason()).
    PolicyUnderTest();
    explicit PolicyUnderTest(const std::string& path);
    bool loaded() const { return module_ != nullptr && ref_.is_bound(); }
    const std::string& reason() const { return reason_; }

    // layout(), then zeroed arrays for `cpus` run queues and `task_slots` tasks, attached.
    // run_queues() and tasks() view them as this test's schema: only meaningful when the
    // layout's versions are the ones the test was compiled with.
    ::testing::AssertionResult attach(uint32_t cpus, uint32_t task_slots);

    const policy::SchedulerPolicyRef& policy() const { return ref_; }
    harness::ModuleHarness& harness() { return harness_; }
    harness::HostModule* module() { return module_; }
    RunQueueState* run_queues() const { return static_cast<RunQueueState*>(run_queues_.data()); }
    TaskState* tasks() const { return static_cast<TaskState*>(tasks_.data()); }
    AlignedBuffer& run_queue_buffer() { return run_queues_; }
    AlignedBuffer& task_buffer() { return tasks_; }
    uint32_t cpu_count() const { return cpus_; }
    uint32_t task_slots() const { return task_slots_; }
    // The module's log lines since the last call, joined by newlines.
    std::string take_log();

private:
    harness::ModuleHarness harness_;
    harness::HostModule* module_ = nullptr;
    policy::SchedulerPolicyRef ref_;
    std::string reason_;
    AlignedBuffer run_queues_;
    AlignedBuffer tasks_;
    uint32_t cpus_ = 0;
    uint32_t task_slots_ = 0;
};

// Every raw list walk of the attached arrays: each Queued task is on the list of exactly
// its CPU, once, with consistent back links; each Running task is exactly one CPU's
// current. Failures are reported as gtest failures naming the task or CPU.
void expect_every_task_on_one_queue(const PolicyUnderTest& module);

class Lockstep {
public:
    Lockstep(PolicyUnderTest& module, uint32_t cpus, uint32_t task_slots);

    void create(uint32_t task, int nice, uint32_t cpu, bool pinned);
    void exit(uint32_t task);
    bool enqueue(uint32_t cpu, uint32_t task, scheduler_model::Placement placement,
                 uint64_t now_ns);
    void dequeue(uint32_t cpu, uint32_t task, uint64_t now_ns);
    uint32_t pick(uint32_t cpu, uint64_t now_ns);
    bool tick(uint32_t cpu, uint64_t now_ns);
    void yield(uint32_t cpu, uint64_t now_ns);
    void set_nice(uint32_t task, int nice, uint64_t now_ns);
    uint32_t select_cpu(uint32_t task, uint32_t previous_cpu);
    uint32_t find_busiest(uint32_t cpu);
    std::optional<uint32_t> steal(uint32_t from, uint32_t to, uint64_t now_ns);

    // Every task and queue of the module equals the model's; the weighted lags of each
    // queue sum to zero within rounding; every runnable task is on exactly one queue.
    void compare_all();
    const scheduler_model::EevdfModel& model() const { return model_; }
    uint64_t calls() const { return calls_; }

private:
    void after(const char* what);

    PolicyUnderTest& module_;
    scheduler_model::EevdfModel model_;
    uint64_t calls_ = 0;
};

}  // namespace umka::scheduler_test
