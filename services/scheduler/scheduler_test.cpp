// The scheduler module's interface through the host harness, on the real scheduler.elf:
// layout and attach, every refusal (status and the log line naming what is wrong),
// placement, wake-up preemption, CPU selection, stealing, growth of the task array, and a
// live swap that keeps the run queues.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <string.h>

#include "module_harness.h"
#include "policy_driver.h"

namespace {

using ::testing::HasSubstr;
using umka::harness::HostModule;
using umka::harness::LoadOptions;
using umka::scheduler_test::AlignedBuffer;
using umka::scheduler_test::PolicyUnderTest;
using umka::scheduler_test::RunQueueState;
using umka::scheduler_test::TaskState;
namespace policy = umka::kabi::scheduler_policy;
constexpr uint32_t kNone = 0xFFFF'FFFF;
constexpr uint64_t kMs = 1'000'000;

class Scheduler : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(module_.loaded()) << module_.reason(); }
    const policy::SchedulerPolicyRef& scheduler() { return module_.policy(); }
    // Creates `task` at `nice` on `cpu` and makes it runnable there.
    void start(uint32_t task, int nice, uint32_t cpu, uint64_t now, policy::TaskFlags flags = {}) {
        ASSERT_EQ(scheduler().task_create(task, int8_t(nice), cpu, flags).code(), 0);
        uint8_t preempt = 0;
        ASSERT_EQ(
            scheduler().enqueue_task(cpu, task, policy::WakeReason::Created, now, &preempt).code(),
            0);
    }
    uint32_t pick(uint32_t cpu, uint64_t now) {
        uint32_t task = 0x1234;
        EXPECT_EQ(scheduler().pick_next_task(cpu, now, &task).code(), 0);
        return task;
    }
    policy::TaskInfo info(uint32_t task) {
        policy::TaskInfo result{};
        EXPECT_EQ(scheduler().task_info(task, &result).code(), 0);
        return result;
    }
    // The call's status, and the one log line it wrote.
    void expect_refusal(int32_t status, int32_t expected, const char* text) {
        EXPECT_EQ(status, expected);
        EXPECT_THAT(module_.take_log(), HasSubstr(text));
    }

    PolicyUnderTest module_;
};

TEST_F(Scheduler, ManifestProvidesSchedulerPolicyVersionTwoWithOneStateRegion) {
    const auto& manifest = module_.module()->manifest();
    EXPECT_STREQ(manifest.name(), "scheduler");
    EXPECT_EQ(manifest.module_version(), 2u);
    EXPECT_EQ(manifest.state_count(), 1u);
    EXPECT_EQ(scheduler().provider_version(), 2u);
}

TEST_F(Scheduler, LayoutNamesTheSchemasTheNucleusAllocates) {
    policy::PolicyLayout layout{};
    ASSERT_EQ(scheduler().layout(&layout).code(), 0);
    EXPECT_EQ(layout.run_queue_state_size, sizeof(RunQueueState));
    EXPECT_EQ(layout.run_queue_state_align, 8u);
    EXPECT_EQ(layout.run_queue_state_version, 1u);
    EXPECT_EQ(layout.task_state_size, sizeof(TaskState));
    EXPECT_EQ(layout.task_state_align, 8u);
    EXPECT_EQ(layout.task_state_version, 1u);
    expect_refusal(scheduler().layout(nullptr).code(), UMKA_KABI_EINVAL, "layout: layout is NULL");
}

TEST_F(Scheduler, EveryCallBeforeAttachIsENXIO) {
    uint32_t task = 0;
    uint8_t flag = 0;
    policy::TaskInfo task_info{};
    const char* why = "no run queues attached yet";
    expect_refusal(scheduler().task_create(0, 0, 0, {}).code(), UMKA_KABI_ENXIO, why);
    expect_refusal(scheduler().enqueue_task(0, 0, policy::WakeReason::Created, 0, &flag).code(),
                   UMKA_KABI_ENXIO, why);
    expect_refusal(scheduler().pick_next_task(0, 0, &task).code(), UMKA_KABI_ENXIO, why);
    expect_refusal(scheduler().timer_tick(0, 0, &flag).code(), UMKA_KABI_ENXIO, why);
    expect_refusal(scheduler().steal(0, 1, 0, &task).code(), UMKA_KABI_ENXIO, why);
    expect_refusal(scheduler().task_info(0, &task_info).code(), UMKA_KABI_ENXIO, why);
    EXPECT_EQ(scheduler().import_states(nullptr, 0, 1, nullptr, 0, 1).code(), UMKA_KABI_ENXIO);
}

TEST_F(Scheduler, AttachRefusesArraysThatAreNotWholeAlignedStates) {
    AlignedBuffer queues(2 * sizeof(RunQueueState) + 8, 64);
    AlignedBuffer tasks(4 * sizeof(TaskState), 64);
    expect_refusal(
        scheduler().attach(queues.data(), queues.size(), tasks.data(), tasks.size()).code(),
        UMKA_KABI_EINVAL,
        "attach: run-queue array of 184 bytes is not a whole, nonzero number of 88-byte states");
    expect_refusal(scheduler().attach(nullptr, 0, tasks.data(), tasks.size()).code(),
                   UMKA_KABI_EINVAL, "run-queue array of 0 bytes");
    auto* misaligned = static_cast<uint8_t*>(tasks.data()) + 4;
    expect_refusal(
        scheduler()
            .attach(queues.data(), 2 * sizeof(RunQueueState), misaligned, 2 * sizeof(TaskState))
            .code(),
        UMKA_KABI_EINVAL, "attach: task array is not 8-byte aligned");
}

TEST_F(Scheduler, AttachRefusesInconsistentContentsNamingTheCulprit) {
    AlignedBuffer queues(2 * sizeof(RunQueueState), 8);
    AlignedBuffer tasks(4 * sizeof(TaskState), 8);
    auto* task = static_cast<TaskState*>(tasks.data());
    auto* queue = static_cast<RunQueueState*>(queues.data());
    auto attach = [&] {
        return scheduler().attach(queues.data(), queues.size(), tasks.data(), tasks.size()).code();
    };
    task[1].run_state = 2;  // Queued, but nice 0 needs weight 1024
    expect_refusal(attach(), UMKA_KABI_EINVAL, "task 1 has nice 0 and weight 0");
    task[1].weight = 1024;
    expect_refusal(attach(), UMKA_KABI_EINVAL,
                   "1 tasks are Queued or Running but the queues reach 0");
    queue[1].first_link = 2;
    task[1].cpu = 0;
    expect_refusal(attach(), UMKA_KABI_EINVAL, "cpu 1 queues task 1, which is not Queued there");
    task[1].cpu = 1;
    expect_refusal(attach(), UMKA_KABI_EINVAL, "cpu 1's counts or sums disagree with its tasks");
    queue[1].runnable_count = 1;
    queue[1].stealable_count = 1;
    queue[1].queued_weight = 1024;
    EXPECT_EQ(attach(), 0) << module_.take_log();
    task[1].next_link = 2;  // a list through itself
    task[1].previous_link = 0;
    expect_refusal(attach(), UMKA_KABI_EINVAL,
                   "which is not Queued there or has a wrong back link");
    task[1].next_link = 9;
    expect_refusal(attach(), UMKA_KABI_EINVAL, "task 1 links past the task array");
}

TEST_F(Scheduler, BadArgumentsReturnAStatusAndNameTheArgument) {
    ASSERT_TRUE(module_.attach(2, 4));
    uint32_t out = 0;
    uint8_t flag = 0;
    policy::TaskInfo task_info{};
    policy::RunQueueInfo queue_info{};
    policy::SchedulerStatistics statistics{};
    auto& s = scheduler();
    expect_refusal(s.task_create(4, 0, 0, {}).code(), UMKA_KABI_EINVAL,
                   "task_create: task 4 is past the task array (4 slots)");
    expect_refusal(s.task_create(0, 20, 0, {}).code(), UMKA_KABI_EINVAL,
                   "nice 20 is outside -20..19");
    expect_refusal(s.task_create(0, -21, 0, {}).code(), UMKA_KABI_EINVAL, "nice -21 is outside");
    expect_refusal(s.task_create(0, 0, 2, {}).code(), UMKA_KABI_EINVAL,
                   "task_create: cpu 2 is not a CPU (2 run queues attached)");
    expect_refusal(s.task_create(0, 0, 0, policy::TaskFlags(6)).code(), UMKA_KABI_EINVAL,
                   "unknown task flags 6");
    ASSERT_EQ(s.task_create(0, 0, 0, {}).code(), 0);
    expect_refusal(s.task_create(0, 0, 0, {}).code(), UMKA_KABI_EEXIST, "task 0 already exists");
    expect_refusal(s.enqueue_task(0, 1, policy::WakeReason::Created, 0, &flag).code(),
                   UMKA_KABI_ENOENT, "enqueue_task: task 1 was never created");
    expect_refusal(s.enqueue_task(5, 0, policy::WakeReason::Created, 0, &flag).code(),
                   UMKA_KABI_EINVAL, "enqueue_task: cpu 5 is not a CPU");
    expect_refusal(s.enqueue_task(0, 0, policy::WakeReason(9), 0, &flag).code(), UMKA_KABI_EINVAL,
                   "unknown wake reason 9");
    expect_refusal(s.enqueue_task(0, 0, policy::WakeReason::Created, 0, nullptr).code(),
                   UMKA_KABI_EINVAL, "preempt_current is NULL");
    expect_refusal(s.dequeue_task(0, 0, 0).code(), UMKA_KABI_ENOENT, "task 0 is on no run queue");
    ASSERT_EQ(s.enqueue_task(0, 0, policy::WakeReason::Created, 0, &flag).code(), 0);
    expect_refusal(s.enqueue_task(1, 0, policy::WakeReason::Unblocked, 0, &flag).code(),
                   UMKA_KABI_EEXIST, "task 0 is already runnable on cpu 0");
    expect_refusal(s.dequeue_task(1, 0, 0).code(), UMKA_KABI_EINVAL, "task 0 is on cpu 0, not 1");
    expect_refusal(s.task_exit(0).code(), UMKA_KABI_EBUSY, "task 0 is still on cpu 0's run queue");
    expect_refusal(s.task_exit(3).code(), UMKA_KABI_ENOENT, "task_exit: task 3 was never created");
    expect_refusal(s.yield_current(1, 0).code(), UMKA_KABI_ENOENT, "cpu 1 runs no task");
    expect_refusal(s.set_nice(0, 25, 0).code(), UMKA_KABI_EINVAL, "set_nice: nice 25");
    expect_refusal(s.select_task_cpu(0, 7, &out).code(), UMKA_KABI_EINVAL,
                   "select_task_cpu: previous_cpu 7 is not a CPU");
    expect_refusal(s.find_busiest(2, &out).code(), UMKA_KABI_EINVAL, "find_busiest: cpu 2");
    expect_refusal(s.steal(1, 1, 0, &out).code(), UMKA_KABI_EINVAL,
                   "from_cpu and to_cpu are both 1");
    expect_refusal(s.steal(0, 9, 0, &out).code(), UMKA_KABI_EINVAL, "to_cpu 9 is not a CPU");
    expect_refusal(s.pick_next_task(0, 0, nullptr).code(), UMKA_KABI_EINVAL, "task is NULL");
    expect_refusal(s.timer_tick(3, 0, &flag).code(), UMKA_KABI_EINVAL, "timer_tick: cpu 3");
    expect_refusal(s.task_info(2, &task_info).code(), UMKA_KABI_ENOENT, "task_info: task 2");
    expect_refusal(s.run_queue_info(2, &queue_info).code(), UMKA_KABI_EINVAL,
                   "run_queue_info: cpu 2");
    expect_refusal(s.statistics(2, &statistics).code(), UMKA_KABI_EINVAL, "statistics: cpu 2");
    // Nothing changed underneath.
    EXPECT_EQ(info(0).state, policy::TaskRunState::Queued);
    umka::scheduler_test::expect_every_task_on_one_queue(module_);
}

TEST_F(Scheduler, PinnedTasksStayOnTheirCpu) {
    ASSERT_TRUE(module_.attach(2, 4));
    ASSERT_EQ(scheduler().task_create(0, 0, 1, policy::TaskFlags::Pinned).code(), 0);
    uint32_t cpu = 0;
    ASSERT_EQ(scheduler().select_task_cpu(0, 0, &cpu).code(), 0);
    EXPECT_EQ(cpu, 1u);
    uint8_t flag = 0;
    expect_refusal(scheduler().enqueue_task(0, 0, policy::WakeReason::Created, 0, &flag).code(),
                   UMKA_KABI_EINVAL, "task 0 is pinned to cpu 1, not 0");
    ASSERT_EQ(scheduler().enqueue_task(1, 0, policy::WakeReason::Created, 0, &flag).code(), 0);
    ASSERT_NO_FATAL_FAILURE(start(1, 0, 1, 0, policy::TaskFlags::Pinned));
    ASSERT_NO_FATAL_FAILURE(start(2, 0, 1, 0, policy::TaskFlags::Pinned));
    uint32_t busiest = 0;
    ASSERT_EQ(scheduler().find_busiest(0, &busiest).code(), 0);
    EXPECT_EQ(busiest, kNone) << "three runnable on cpu 1, but all pinned";
    uint32_t stolen = 0;
    EXPECT_EQ(scheduler().steal(1, 0, 0, &stolen).code(), UMKA_KABI_EAGAIN);
    EXPECT_EQ(module_.take_log(), "") << "EAGAIN is a lost race, not an error";
}

TEST_F(Scheduler, AnIdleCpuPicksNothingAndCountsIdleTime) {
    ASSERT_TRUE(module_.attach(1, 2));
    EXPECT_EQ(pick(0, 10 * kMs), kNone);
    ASSERT_NO_FATAL_FAILURE(start(0, 0, 0, 15 * kMs));
    EXPECT_EQ(pick(0, 15 * kMs), 0u);
    policy::SchedulerStatistics statistics{};
    ASSERT_EQ(scheduler().statistics(0, &statistics).code(), 0);
    EXPECT_EQ(statistics.idle_ns, 5 * kMs);
    EXPECT_EQ(statistics.context_switches, 1u);
    EXPECT_EQ(statistics.runnable_threads, 1u);
}

TEST_F(Scheduler, ASoleTaskRunsOnWithoutPreemptionAndRenewsItsDeadline) {
    ASSERT_TRUE(module_.attach(1, 2));
    ASSERT_NO_FATAL_FAILURE(start(0, 0, 0, 0));
    EXPECT_EQ(pick(0, 0), 0u);
    for (uint64_t now = kMs; now <= 10 * kMs; now += kMs) {
        uint8_t preempt = 1;
        ASSERT_EQ(scheduler().timer_tick(0, now, &preempt).code(), 0);
        EXPECT_EQ(preempt, 0) << "alone at " << now;
    }
    policy::TaskInfo task = info(0);
    EXPECT_EQ(task.received_ns, 10 * kMs);
    EXPECT_EQ(task.virtual_runtime, 10 * kMs);  // nice 0: virtual = real
    EXPECT_GT(task.virtual_deadline, task.virtual_runtime);
    EXPECT_EQ(task.virtual_lag, 0);
}

TEST_F(Scheduler, ATickOnAnIdleCpuWithQueuedTasksAsksForAPick) {
    ASSERT_TRUE(module_.attach(2, 2));
    uint8_t preempt = 9;
    ASSERT_EQ(scheduler().timer_tick(1, kMs, &preempt).code(), 0);
    EXPECT_EQ(preempt, 0) << "idle and nothing queued";
    ASSERT_NO_FATAL_FAILURE(start(0, 0, 1, kMs));  // the wake-up IPI is "lost"
    ASSERT_EQ(scheduler().timer_tick(1, 2 * kMs, &preempt).code(), 0);
    EXPECT_EQ(preempt, 1);
    EXPECT_EQ(pick(1, 2 * kMs), 0u);
    ASSERT_EQ(scheduler().timer_tick(1, 3 * kMs, &preempt).code(), 0);
    EXPECT_EQ(preempt, 0) << "running alone";
}

TEST_F(Scheduler, ASleeperWithPositiveLagPreemptsOnWakeUp) {
    ASSERT_TRUE(module_.attach(1, 4));
    ASSERT_NO_FATAL_FAILURE(start(0, 0, 0, 0));
    ASSERT_NO_FATAL_FAILURE(start(1, 0, 0, 0));
    uint32_t first = pick(0, 0);
    uint32_t second = 1 - first;
    // `second` waits 1 ms, then `first` blocks: ...
    ASSERT_EQ(scheduler().dequeue_task(0, first, kMs).code(), 0);
    EXPECT_EQ(pick(0, kMs), second);
    // ... and wakes 2 ms later: it had run 1 ms more than `second`, so it comes back
    // with negative lag, behind: no preemption. `second` blocks and wakes with lag kept.
    uint8_t preempt = 9;
    ASSERT_EQ(
        scheduler().enqueue_task(0, first, policy::WakeReason::Unblocked, 3 * kMs, &preempt).code(),
        0);
    EXPECT_EQ(preempt, 0);
    EXPECT_LT(info(first).virtual_lag, 0);
    ASSERT_EQ(scheduler().dequeue_task(0, second, 3 * kMs).code(), 0);
    EXPECT_EQ(pick(0, 3 * kMs), first);
    // `second` left 1.5 ms ahead of V ... it wakes with that credit: it preempts.
    EXPECT_GT(info(second).virtual_lag, 0);
    ASSERT_EQ(scheduler()
                  .enqueue_task(0, second, policy::WakeReason::Unblocked, 4 * kMs, &preempt)
                  .code(),
              0);
    EXPECT_EQ(preempt, 1);
    EXPECT_EQ(pick(0, 4 * kMs), second);
}

TEST_F(Scheduler, NewTasksSpreadOverTheLeastLoadedCpus) {
    ASSERT_TRUE(module_.attach(4, 16));
    for (uint32_t task = 0; task < 16; ++task) {
        ASSERT_EQ(scheduler().task_create(task, 0, 0, {}).code(), 0);
        uint32_t cpu = kNone;
        ASSERT_EQ(scheduler().select_task_cpu(task, 0, &cpu).code(), 0);
        uint8_t preempt = 0;
        ASSERT_EQ(
            scheduler().enqueue_task(cpu, task, policy::WakeReason::Created, 0, &preempt).code(),
            0);
    }
    for (uint32_t cpu = 0; cpu < 4; ++cpu) {
        policy::RunQueueInfo queue{};
        ASSERT_EQ(scheduler().run_queue_info(cpu, &queue).code(), 0);
        EXPECT_EQ(queue.runnable_count, 4u) << "cpu " << cpu;
    }
}

TEST_F(Scheduler, IdleCpusStealFromTheBusiestUntilBalanced) {
    ASSERT_TRUE(module_.attach(4, 8));
    for (uint32_t task = 0; task < 8; ++task) ASSERT_NO_FATAL_FAILURE(start(task, 0, 0, 0));
    EXPECT_NE(pick(0, 0), kNone);
    for (uint32_t round = 0; round < 3; ++round) {
        for (uint32_t cpu = 1; cpu < 4; ++cpu) {
            uint32_t busiest = kNone;
            ASSERT_EQ(scheduler().find_busiest(cpu, &busiest).code(), 0);
            if (busiest == kNone) continue;
            EXPECT_EQ(busiest, 0u);
            uint32_t stolen = kNone;
            ASSERT_EQ(scheduler().steal(busiest, cpu, kMs, &stolen).code(), 0);
            EXPECT_EQ(info(stolen).cpu, cpu);
            umka::scheduler_test::expect_every_task_on_one_queue(module_);
        }
    }
    uint32_t counts[4] = {};
    uint64_t stolen_total = 0;
    for (uint32_t cpu = 0; cpu < 4; ++cpu) {
        policy::RunQueueInfo queue{};
        ASSERT_EQ(scheduler().run_queue_info(cpu, &queue).code(), 0);
        counts[cpu] = queue.runnable_count;
        stolen_total += queue.tasks_stolen;
    }
    EXPECT_EQ(counts[0] + counts[1] + counts[2] + counts[3], 8u);
    for (uint32_t cpu = 0; cpu < 4; ++cpu) EXPECT_EQ(counts[cpu], 2u) << "cpu " << cpu;
    EXPECT_EQ(stolen_total, 6u);
    uint32_t busiest = 0;
    ASSERT_EQ(scheduler().find_busiest(1, &busiest).code(), 0);
    EXPECT_EQ(busiest, kNone) << "balanced: nothing worth moving";
}

TEST_F(Scheduler, SetNiceKeepsServiceLagAndChangesTheShare) {
    ASSERT_TRUE(module_.attach(1, 2));
    ASSERT_NO_FATAL_FAILURE(start(0, 0, 0, 0));
    ASSERT_NO_FATAL_FAILURE(start(1, 0, 0, 0));
    uint32_t running = pick(0, 0);
    uint8_t preempt = 0;
    ASSERT_EQ(scheduler().timer_tick(0, kMs, &preempt).code(), 0);
    int64_t service_lag_before = info(running).virtual_lag * int64_t(info(running).weight);
    ASSERT_EQ(scheduler().set_nice(running, -5, kMs).code(), 0);
    policy::TaskInfo after = info(running);
    EXPECT_EQ(after.weight, 3121u);
    EXPECT_NEAR(double(after.virtual_lag) * after.weight, double(service_lag_before), 3121.0);
}

TEST_F(Scheduler, GrowingTheTaskArrayKeepsEveryTask) {
    ASSERT_TRUE(module_.attach(2, 4));
    for (uint32_t task = 0; task < 4; ++task)
        ASSERT_NO_FATAL_FAILURE(start(task, int(task), task % 2, 0));
    EXPECT_NE(pick(0, 0), kNone);
    // The nucleus copies the array into a larger one and attaches again (all CPUs quiet).
    AlignedBuffer larger(16 * sizeof(TaskState), 8);
    memcpy(larger.data(), module_.tasks(), 4 * sizeof(TaskState));
    ASSERT_EQ(scheduler()
                  .attach(module_.run_queues(), module_.run_queue_buffer().size(), larger.data(),
                          larger.size())
                  .code(),
              0)
        << module_.take_log();
    module_.task_buffer() = std::move(larger);
    ASSERT_NO_FATAL_FAILURE(start(12, 0, 1, kMs));
    EXPECT_EQ(info(2).state, policy::TaskRunState::Queued);
    EXPECT_EQ(info(12).cpu, 1u);
}

TEST_F(Scheduler, ImportStatesCopiesVersionOneArraysIntoFreshOnes) {
    ASSERT_TRUE(module_.attach(2, 4));
    for (uint32_t task = 0; task < 3; ++task) ASSERT_NO_FATAL_FAILURE(start(task, -3, 0, 0));
    EXPECT_NE(pick(0, 0), kNone);
    AlignedBuffer old_queues(2 * sizeof(RunQueueState), 8);
    AlignedBuffer old_tasks(4 * sizeof(TaskState), 8);
    memcpy(old_queues.data(), module_.run_queues(), old_queues.size());
    memcpy(old_tasks.data(), module_.tasks(), old_tasks.size());
    AlignedBuffer fresh_queues(2 * sizeof(RunQueueState), 8);
    AlignedBuffer fresh_tasks(8 * sizeof(TaskState), 8);
    ASSERT_EQ(scheduler()
                  .attach(fresh_queues.data(), fresh_queues.size(), fresh_tasks.data(),
                          fresh_tasks.size())
                  .code(),
              0);
    expect_refusal(scheduler()
                       .import_states(old_queues.data(), old_queues.size(), 0, old_tasks.data(),
                                      old_tasks.size(), 1)
                       .code(),
                   UMKA_KABI_EINVAL, "RunQueueState version 0 or TaskState version 1 is unknown");
    // A newer version is known only by its size: the old array must divide into the
    // attached slot count (4 old slots are not 8).
    expect_refusal(scheduler()
                       .import_states(old_queues.data(), old_queues.size(), 1, old_tasks.data(),
                                      old_tasks.size(), 2)
                       .code(),
                   UMKA_KABI_EINVAL, "RunQueueState version 1 or TaskState version 2 is unknown");
    expect_refusal(
        scheduler()
            .import_states(old_queues.data(), 8, 1, old_tasks.data(), old_tasks.size(), 1)
            .code(),
        UMKA_KABI_EINVAL, "do not fit the attached 2 run queues and 8 task slots");
    ASSERT_EQ(scheduler()
                  .import_states(old_queues.data(), old_queues.size(), 1, old_tasks.data(),
                                 old_tasks.size(), 1)
                  .code(),
              0)
        << module_.take_log();
    EXPECT_EQ(memcmp(fresh_queues.data(), old_queues.data(), old_queues.size()), 0);
    EXPECT_EQ(memcmp(fresh_tasks.data(), old_tasks.data(), old_tasks.size()), 0);
    EXPECT_EQ(info(1).state, module_.tasks()[1].run_state == 3 ? policy::TaskRunState::Running
                                                               : policy::TaskRunState::Queued);
    module_.run_queue_buffer() = std::move(fresh_queues);
    module_.task_buffer() = std::move(fresh_tasks);
}

TEST_F(Scheduler, ALiveSwapKeepsTheRunQueuesAndTheNextInstanceGoesOn) {
    ASSERT_TRUE(module_.attach(2, 4));
    for (uint32_t task = 0; task < 3; ++task) ASSERT_NO_FATAL_FAILURE(start(task, 0, 0, 0));
    uint32_t running = pick(0, 0);
    HostModule* current = module_.module();
    LoadOptions options;
    options.carried_states = current->states;
    options.carried_states[0].origin = UMKA_STATE_ORIGIN_CARRIED;
    options.carried_memory = current->state_memory;
    options.publication = umka::modules::Publication::Withhold;
    HostModule* replacement = module_.harness().load(umka::harness::module_under_test(), options);
    ASSERT_NE(replacement, nullptr) << module_.harness().last_reason();
    ASSERT_TRUE(module_.harness().swap(current, replacement).is_ok())
        << module_.harness().last_reason();
    policy::SchedulerPolicyRef next;
    ASSERT_TRUE(module_.harness()
                    .bind_provided(*replacement, "scheduler_policy", "SchedulerPolicy", &next)
                    .is_ok());
    ASSERT_NE(next.vtable(), scheduler().vtable());
    policy::RunQueueInfo queue{};
    ASSERT_EQ(next.run_queue_info(0, &queue).code(), 0);
    EXPECT_EQ(queue.current_task, running);
    EXPECT_EQ(queue.runnable_count, 3u);
    uint8_t preempt = 0;
    for (uint64_t now = kMs; now < 20 * kMs; now += kMs) {
        ASSERT_EQ(next.timer_tick(0, now, &preempt).code(), 0);
        uint32_t task = 0;
        if (preempt) {
            ASSERT_EQ(next.pick_next_task(0, now, &task).code(), 0);
        }
    }
    umka::scheduler_test::expect_every_task_on_one_queue(module_);
}

TEST_F(Scheduler, ACarriedStateWithBrokenArraysIsRefusedAtLoad) {
    ASSERT_TRUE(module_.attach(1, 2));
    ASSERT_NO_FATAL_FAILURE(start(0, 0, 0, 0));
    module_.run_queues()[0].runnable_count = 5;  // corrupted while no module was loaded
    LoadOptions options;
    options.carried_states = module_.module()->states;
    options.carried_states[0].origin = UMKA_STATE_ORIGIN_CARRIED;
    options.carried_memory = module_.module()->state_memory;
    options.publication = umka::modules::Publication::Withhold;
    EXPECT_EQ(module_.harness().load(umka::harness::module_under_test(), options), nullptr);
    // Entry cannot log (module_entry.h): the reason comes back with the refusal.
    EXPECT_THAT(module_.harness().last_reason(),
                HasSubstr("carried state: inconsistent scheduler state: cpu 0's counts"));
}

}  // namespace
