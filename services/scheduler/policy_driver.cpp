// Test plumbing for the scheduler module (policy_driver.h).
#include "policy_driver.h"

#include <stdlib.h>
#include <string.h>

#include <cmath>
#include <map>

namespace umka::scheduler_test {

using scheduler_model::ModelState;
using scheduler_model::Placement;

AlignedBuffer::AlignedBuffer(uint64_t size, uint64_t alignment) : size_(size) {
    uint64_t rounded = (size + alignment - 1) / alignment * alignment;
    memory_.reset(aligned_alloc(alignment, rounded));
    memset(memory_.get(), 0, rounded);
}

void AlignedBuffer::Free::operator()(void* pointer) const {
    free(pointer);
}

PolicyUnderTest::PolicyUnderTest() : PolicyUnderTest(harness::module_under_test()) {}

PolicyUnderTest::PolicyUnderTest(const std::string& path) {
    module_ = harness_.load(path);
    if (module_ == nullptr) {
        reason_ = harness_.last_reason();
        return;
    }
    kabi::Status bound =
        harness_.bind_provided(*module_, "scheduler_policy", "SchedulerPolicy", &ref_);
    if (bound.is_error()) reason_ = "bind_provided: errno " + std::to_string(bound.code());
}

::testing::AssertionResult PolicyUnderTest::attach(uint32_t cpus, uint32_t task_slots) {
    policy::PolicyLayout layout{};
    if (kabi::Status status = ref_.layout(&layout); status.is_error()) {
        return ::testing::AssertionFailure() << "layout: errno " << status.code();
    }
    // The nucleus knows only what layout says; the test also knows the schema, and the
    // two must agree or the raw checks below would read garbage.
    bool same_schema = layout.run_queue_state_version == kabi::scheduler::run_queue_state_version &&
                       layout.task_state_version == kabi::scheduler::task_state_version;
    if (same_schema && (layout.run_queue_state_size != sizeof(RunQueueState) ||
                        layout.task_state_size != sizeof(TaskState))) {
        return ::testing::AssertionFailure()
               << "layout sizes " << layout.run_queue_state_size << "/" << layout.task_state_size;
    }
    run_queues_ =
        AlignedBuffer(uint64_t(cpus) * layout.run_queue_state_size, layout.run_queue_state_align);
    tasks_ = AlignedBuffer(uint64_t(task_slots) * layout.task_state_size, layout.task_state_align);
    cpus_ = cpus;
    task_slots_ = task_slots;
    kabi::Status status =
        ref_.attach(run_queues_.data(), run_queues_.size(), tasks_.data(), tasks_.size());
    if (status.is_error()) {
        return ::testing::AssertionFailure()
               << "attach: errno " << status.code() << ": " << take_log();
    }
    return ::testing::AssertionSuccess();
}

std::string PolicyUnderTest::take_log() {
    std::string joined;
    for (const std::string& line : harness_.log().lines()) joined += line + "\n";
    harness_.log().clear();
    return joined;
}

void expect_every_task_on_one_queue(const PolicyUnderTest& module) {
    std::map<uint32_t, int> seen;  // slot -> times reached
    for (uint32_t cpu = 0; cpu < module.cpu_count(); ++cpu) {
        const RunQueueState& queue = module.run_queues()[cpu];
        if (queue.current_link != 0) {
            uint32_t task = queue.current_link - 1;
            seen[task] += 1;
            EXPECT_EQ(module.tasks()[task].run_state, uint8_t(policy::TaskRunState::Running))
                << "cpu " << cpu << " runs task " << task;
            EXPECT_EQ(module.tasks()[task].cpu, cpu) << "running task " << task;
        }
        uint32_t previous = 0;
        uint32_t steps = 0;
        for (uint32_t link = queue.first_link; link != 0;
             link = module.tasks()[link - 1].next_link) {
            ASSERT_LE(++steps, module.task_slots()) << "cpu " << cpu << ": list has a cycle";
            const TaskState& task = module.tasks()[link - 1];
            seen[link - 1] += 1;
            EXPECT_EQ(task.run_state, uint8_t(policy::TaskRunState::Queued)) << "task " << link - 1;
            EXPECT_EQ(task.cpu, cpu) << "task " << link - 1 << " listed on cpu " << cpu;
            EXPECT_EQ(task.previous_link, previous) << "task " << link - 1 << " back link";
            previous = link;
        }
    }
    for (uint32_t task = 0; task < module.task_slots(); ++task) {
        uint8_t state = module.tasks()[task].run_state;
        bool runnable = state == uint8_t(policy::TaskRunState::Queued) ||
                        state == uint8_t(policy::TaskRunState::Running);
        EXPECT_EQ(seen[task], runnable ? 1 : 0)
            << "task " << task << " (state " << int(state) << ") is on " << seen[task] << " queues";
    }
}

Lockstep::Lockstep(PolicyUnderTest& module, uint32_t cpus, uint32_t task_slots)
    : module_(module), model_(cpus, task_slots) {
    EXPECT_TRUE(module_.attach(cpus, task_slots));
}

void Lockstep::after(const char* what) {
    calls_ += 1;
    std::string log = module_.take_log();
    EXPECT_EQ(log, "") << "after " << what;
}

void Lockstep::create(uint32_t task, int nice, uint32_t cpu, bool pinned) {
    policy::TaskFlags flags = pinned ? policy::TaskFlags::Pinned : policy::TaskFlags{};
    EXPECT_EQ(module_.policy().task_create(task, int8_t(nice), cpu, flags).code(), 0);
    model_.create(task, nice, cpu, pinned);
    after("task_create");
}

void Lockstep::exit(uint32_t task) {
    EXPECT_EQ(module_.policy().task_exit(task).code(), 0);
    model_.exit(task);
    after("task_exit");
}

bool Lockstep::enqueue(uint32_t cpu, uint32_t task, Placement placement, uint64_t now_ns) {
    uint8_t preempt = 2;
    policy::WakeReason reason = placement == Placement::Created ? policy::WakeReason::Created
                                                                : policy::WakeReason::Unblocked;
    int64_t kept_lag = model_.task(task).kept_lag;
    bool joins_others = model_.total_weight(cpu) != 0 || model_.queue(cpu).current != kNone;
    EXPECT_EQ(module_.policy().enqueue_task(cpu, task, reason, now_ns, &preempt).code(), 0);
    bool expected = model_.enqueue(cpu, task, placement, now_ns);
    // Placement keeps the lag a task left with (a fresh task has none), up to three
    // rounding steps (scaling, V's floor before and after); alone on a queue it has none.
    policy::TaskInfo info{};
    EXPECT_EQ(module_.policy().task_info(task, &info).code(), 0);
    int64_t wanted = placement == Placement::Created || !joins_others ? 0 : kept_lag;
    EXPECT_NEAR(double(info.virtual_lag), double(wanted), 3.0) << "placed task " << task;
    EXPECT_EQ(preempt, expected ? 1 : 0) << "enqueue of task " << task << " on cpu " << cpu;
    after("enqueue_task");
    return expected;
}

void Lockstep::dequeue(uint32_t cpu, uint32_t task, uint64_t now_ns) {
    EXPECT_EQ(module_.policy().dequeue_task(cpu, task, now_ns).code(), 0);
    model_.dequeue(cpu, task, now_ns);
    // The kept lag is clamped to two slices of the task's service.
    policy::TaskInfo info{};
    EXPECT_EQ(module_.policy().task_info(task, &info).code(), 0);
    double limit = 2.0 * scheduler_model::kSliceNs * 1024.0 / info.weight;
    EXPECT_LE(std::fabs(double(info.virtual_lag)), limit) << "task " << task << " left";
    after("dequeue_task");
}

uint32_t Lockstep::pick(uint32_t cpu, uint64_t now_ns) {
    uint32_t picked = 0x1234;
    EXPECT_EQ(module_.policy().pick_next_task(cpu, now_ns, &picked).code(), 0);
    uint32_t expected = model_.pick(cpu, now_ns);
    EXPECT_EQ(picked, expected) << "pick on cpu " << cpu << " at " << now_ns;
    after("pick_next_task");
    return expected;
}

bool Lockstep::tick(uint32_t cpu, uint64_t now_ns) {
    uint8_t preempt = 2;
    EXPECT_EQ(module_.policy().timer_tick(cpu, now_ns, &preempt).code(), 0);
    bool expected = model_.tick(cpu, now_ns);
    EXPECT_EQ(preempt, expected ? 1 : 0) << "tick on cpu " << cpu << " at " << now_ns;
    after("timer_tick");
    return expected;
}

void Lockstep::yield(uint32_t cpu, uint64_t now_ns) {
    EXPECT_EQ(module_.policy().yield_current(cpu, now_ns).code(), 0);
    model_.yield(cpu, now_ns);
    after("yield_current");
}

void Lockstep::set_nice(uint32_t task, int nice, uint64_t now_ns) {
    EXPECT_EQ(module_.policy().set_nice(task, int8_t(nice), now_ns).code(), 0);
    model_.set_nice(task, nice, now_ns);
    after("set_nice");
}

uint32_t Lockstep::select_cpu(uint32_t task, uint32_t previous_cpu) {
    uint32_t chosen = 0x1234;
    EXPECT_EQ(module_.policy().select_task_cpu(task, previous_cpu, &chosen).code(), 0);
    uint32_t expected = model_.select_cpu(task, previous_cpu);
    EXPECT_EQ(chosen, expected) << "select_task_cpu of task " << task;
    after("select_task_cpu");
    return expected;
}

uint32_t Lockstep::find_busiest(uint32_t cpu) {
    uint32_t busiest = 0x1234;
    EXPECT_EQ(module_.policy().find_busiest(cpu, &busiest).code(), 0);
    uint32_t expected = model_.find_busiest(cpu);
    EXPECT_EQ(busiest, expected) << "find_busiest for cpu " << cpu;
    after("find_busiest");
    return expected;
}

std::optional<uint32_t> Lockstep::steal(uint32_t from, uint32_t to, uint64_t now_ns) {
    uint32_t stolen = 0x1234;
    int32_t status = module_.policy().steal(from, to, now_ns, &stolen).code();
    std::optional<uint32_t> expected = model_.steal(from, to, now_ns);
    if (expected) {
        EXPECT_EQ(status, 0) << "steal " << from << " -> " << to;
        EXPECT_EQ(stolen, *expected) << "steal " << from << " -> " << to;
    } else {
        EXPECT_EQ(status, UMKA_KABI_EAGAIN) << "steal " << from << " -> " << to;
    }
    after("steal");
    return expected;
}

void Lockstep::compare_all() {
    for (uint32_t cpu = 0; cpu < model_.cpu_count(); ++cpu) {
        policy::RunQueueInfo info{};
        ASSERT_EQ(module_.policy().run_queue_info(cpu, &info).code(), 0);
        const scheduler_model::ModelQueue& queue = model_.queue(cpu);
        EXPECT_EQ(int64_t(info.virtual_time), model_.virtual_time(cpu)) << "V of cpu " << cpu;
        EXPECT_EQ(info.total_weight, model_.total_weight(cpu)) << "cpu " << cpu;
        EXPECT_EQ(info.current_task, queue.current) << "cpu " << cpu;
        EXPECT_EQ(info.runnable_count, model_.runnable(cpu).size()) << "cpu " << cpu;
        EXPECT_EQ(info.context_switches, queue.context_switches) << "cpu " << cpu;
        EXPECT_EQ(info.tasks_stolen, queue.tasks_stolen) << "cpu " << cpu;
        // sum w_i (V - v_i) = W floor(mean) - sum w_i v_i, which lies in (-W, 0].
        __int128 weighted_lag = 0;
        for (uint32_t task : model_.runnable(cpu)) {
            policy::TaskInfo task_info{};
            ASSERT_EQ(module_.policy().task_info(task, &task_info).code(), 0);
            weighted_lag += (__int128)task_info.weight * task_info.virtual_lag;
        }
        EXPECT_LE(weighted_lag, 0) << "cpu " << cpu;
        if (info.total_weight != 0) {
            EXPECT_GT(weighted_lag, -(__int128)info.total_weight) << "cpu " << cpu;
        }
    }
    for (uint32_t task = 0; task < model_.task_slots(); ++task) {
        const scheduler_model::ModelTask& expected = model_.task(task);
        policy::TaskInfo info{};
        int32_t status = module_.policy().task_info(task, &info).code();
        if (expected.state == ModelState::Unused) {
            EXPECT_EQ(status, UMKA_KABI_ENOENT) << "task " << task;
            module_.take_log();
            continue;
        }
        ASSERT_EQ(status, 0) << "task " << task;
        EXPECT_EQ(int(info.state), int(expected.state)) << "task " << task;
        EXPECT_EQ(info.cpu, expected.cpu) << "task " << task;
        EXPECT_EQ(info.weight, expected.weight) << "task " << task;
        EXPECT_EQ(info.nice, expected.nice) << "task " << task;
        EXPECT_EQ(int64_t(info.virtual_runtime), expected.virtual_runtime) << "task " << task;
        EXPECT_EQ(int64_t(info.virtual_deadline), expected.virtual_deadline) << "task " << task;
        EXPECT_EQ(info.virtual_lag, model_.lag(task)) << "task " << task;
        EXPECT_EQ(info.received_ns, expected.received_ns) << "task " << task;
    }
    expect_every_task_on_one_queue(module_);
}

}  // namespace umka::scheduler_test
