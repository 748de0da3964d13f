// scheduler.umod (version 1 schemas) and scheduler-v2.umod (version 2 schemas), each the
// ELF that is signed, taking over each other's state: full run-queue and task arrays
// through SchedulerPolicy.import_states (v1 -> v2 by kabi-gen's migration and the module's
// hook, v2 -> v1 by keeping the known prefix), the SchedulerGlobals region through the
// module's state import function, and the refusals of state that does not import.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <string.h>

#include <vector>

#include "module_harness.h"
#include "policy_driver.h"
#include "umka/kabi/scheduler_state.hpp"

namespace {

using ::testing::HasSubstr;
using umka::scheduler_test::AlignedBuffer;
using umka::scheduler_test::PolicyUnderTest;
namespace policy = umka::kabi::scheduler_policy;
namespace schema = umka::kabi::scheduler;
using TaskStateV1 = schema::TaskStateV1;
using TaskStateV2 = schema::TaskStateV2;
constexpr uint32_t kNone = 0xFFFF'FFFF;
constexpr uint64_t kMs = 1'000'000;
constexpr uint32_t kCpus = 3;
constexpr uint32_t kSlots = 16;

static_assert(schema::task_state_version == 2, "compiled against version 2's headers");

// Every task slot's and run queue's view through the interface.
struct Snapshot {
    std::vector<policy::TaskInfo> tasks;
    std::vector<policy::RunQueueInfo> queues;
};

Snapshot snapshot_of(const policy::SchedulerPolicyRef& scheduler) {
    Snapshot result;
    for (uint32_t task = 0; task < kSlots; ++task) {
        policy::TaskInfo info{};
        int32_t status = scheduler.task_info(task, &info).code();
        EXPECT_TRUE(status == 0 || status == UMKA_KABI_ENOENT) << "task " << task;
        result.tasks.push_back(info);  // a free slot stays all zero
    }
    for (uint32_t cpu = 0; cpu < kCpus; ++cpu) {
        policy::RunQueueInfo info{};
        EXPECT_EQ(scheduler.run_queue_info(cpu, &info).code(), 0);
        result.queues.push_back(info);
    }
    return result;
}

// The populated system has every kind of slot, so a comparison covers each of them.
void expect_every_run_state(const Snapshot& snapshot) {
    for (policy::TaskRunState state :
         {policy::TaskRunState::Unused, policy::TaskRunState::Blocked, policy::TaskRunState::Queued,
          policy::TaskRunState::Running}) {
        bool seen = false;
        for (const policy::TaskInfo& info : snapshot.tasks) seen = seen || info.state == state;
        EXPECT_TRUE(seen) << "no task in run state " << int(state);
    }
}

void expect_same(const Snapshot& before, const Snapshot& after) {
    expect_every_run_state(before);
    for (uint32_t task = 0; task < kSlots; ++task) {
        const policy::TaskInfo& a = before.tasks[task];
        const policy::TaskInfo& b = after.tasks[task];
        EXPECT_EQ(a.state, b.state) << "task " << task;
        EXPECT_EQ(a.nice, b.nice) << "task " << task;
        EXPECT_EQ(a.flags, b.flags) << "task " << task;
        EXPECT_EQ(a.cpu, b.cpu) << "task " << task;
        EXPECT_EQ(a.weight, b.weight) << "task " << task;
        EXPECT_EQ(a.virtual_runtime, b.virtual_runtime) << "task " << task;
        EXPECT_EQ(a.virtual_deadline, b.virtual_deadline) << "task " << task;
        EXPECT_EQ(a.virtual_lag, b.virtual_lag) << "task " << task;
        EXPECT_EQ(a.received_ns, b.received_ns) << "task " << task;
    }
    for (uint32_t cpu = 0; cpu < kCpus; ++cpu) {
        EXPECT_EQ(memcmp(&before.queues[cpu], &after.queues[cpu], sizeof(policy::RunQueueInfo)), 0)
            << "cpu " << cpu;
    }
}

class SchedulerVersions : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(v1_.loaded()) << v1_.reason();
        ASSERT_TRUE(v2_.loaded()) << v2_.reason();
    }

    // A busy system: tasks of several nice values, some pinned, running, queued, blocked
    // with a kept lag, one re-niced, one exited (a free slot between used ones), time
    // charged on every CPU.
    static void populate(const policy::SchedulerPolicyRef& scheduler) {
        uint64_t now = 0;
        uint8_t preempt = 0;
        for (uint32_t task = 0; task < 13; ++task) {
            uint32_t cpu = task % kCpus;
            policy::TaskFlags flags =
                task % 4 == 3 ? policy::TaskFlags::Pinned : policy::TaskFlags{};
            ASSERT_EQ(scheduler.task_create(task, int8_t(int(task % 7) * 3 - 9), cpu, flags).code(),
                      0);
            ASSERT_EQ(scheduler.enqueue_task(cpu, task, policy::WakeReason::Created, now, &preempt)
                          .code(),
                      0);
        }
        for (uint32_t round = 0; round < 40; ++round) {
            now += kMs / 2 + round * 37'000;
            for (uint32_t cpu = 0; cpu < kCpus; ++cpu) {
                ASSERT_EQ(scheduler.timer_tick(cpu, now, &preempt).code(), 0);
                uint32_t next = kNone;
                if (preempt || round % 5 == 0) {
                    ASSERT_EQ(scheduler.pick_next_task(cpu, now, &next).code(), 0);
                }
            }
        }
        // Blocked with a lag, woken again (a wake-up counted by version 2), blocked for good.
        for (uint32_t task : {4u, 7u, 9u}) {
            policy::TaskInfo info{};
            ASSERT_EQ(scheduler.task_info(task, &info).code(), 0);
            ASSERT_EQ(scheduler.dequeue_task(info.cpu, task, now).code(), 0);
        }
        now += kMs;
        ASSERT_EQ(scheduler.enqueue_task(1, 7, policy::WakeReason::Unblocked, now, &preempt).code(),
                  0);
        ASSERT_EQ(scheduler.set_nice(2, 5, now).code(), 0);
        ASSERT_EQ(scheduler.task_exit(9).code(), 0);
        for (uint32_t cpu = 0; cpu < kCpus; ++cpu) {
            uint32_t next = kNone;
            ASSERT_EQ(scheduler.pick_next_task(cpu, now + kMs, &next).code(), 0);
        }
    }

    // The successor's part of a swap: fresh arrays of its own layout, attached, then the
    // predecessor's arrays imported.
    static int32_t take_over(PolicyUnderTest& successor, PolicyUnderTest& predecessor) {
        policy::PolicyLayout old_layout{};
        EXPECT_EQ(predecessor.policy().layout(&old_layout).code(), 0);
        if (!successor.attach(kCpus, kSlots)) return -1;
        return successor.policy()
            .import_states(predecessor.run_queue_buffer().data(),
                           predecessor.run_queue_buffer().size(),
                           old_layout.run_queue_state_version, predecessor.task_buffer().data(),
                           predecessor.task_buffer().size(), old_layout.task_state_version)
            .code();
    }

    // The new instance goes on: time passes on every CPU, everything stays consistent
    // (any inconsistency would make the module refuse a call), tasks keep accumulating.
    static void run_on(const policy::SchedulerPolicyRef& scheduler, uint64_t from) {
        uint8_t preempt = 0;
        for (uint64_t now = from; now < from + 30 * kMs; now += kMs) {
            for (uint32_t cpu = 0; cpu < kCpus; ++cpu) {
                ASSERT_EQ(scheduler.timer_tick(cpu, now, &preempt).code(), 0);
                uint32_t next = kNone;
                if (preempt) {
                    ASSERT_EQ(scheduler.pick_next_task(cpu, now, &next).code(), 0);
                }
            }
        }
    }

    TaskStateV1* v1_tasks() { return static_cast<TaskStateV1*>(v1_.task_buffer().data()); }
    TaskStateV2* v2_tasks() { return static_cast<TaskStateV2*>(v2_.task_buffer().data()); }

    PolicyUnderTest v1_{UMKA_SCHEDULER_V1_MODULE};
    PolicyUnderTest v2_;
};

TEST_F(SchedulerVersions, ManifestsTellTheTwoVersionsApart) {
    const auto& old_manifest = v1_.module()->manifest();
    const auto& new_manifest = v2_.module()->manifest();
    EXPECT_STREQ(old_manifest.name(), "scheduler");
    EXPECT_STREQ(new_manifest.name(), "scheduler");
    EXPECT_EQ(old_manifest.module_version(), 2u);
    EXPECT_EQ(new_manifest.module_version(), 3u);
    ASSERT_EQ(old_manifest.state_count(), 1u);
    ASSERT_EQ(new_manifest.state_count(), 1u);
    EXPECT_STREQ(old_manifest.state(0).name, "SchedulerGlobals");
    EXPECT_STREQ(new_manifest.state(0).name, "SchedulerGlobals");
    EXPECT_EQ(old_manifest.state(0).version, 1u);
    EXPECT_EQ(new_manifest.state(0).version, 2u);
    EXPECT_EQ(v1_.policy().provider_version(), 2u);
    EXPECT_EQ(v2_.policy().provider_version(), 2u);
    policy::PolicyLayout old_layout{};
    policy::PolicyLayout new_layout{};
    ASSERT_EQ(v1_.policy().layout(&old_layout).code(), 0);
    ASSERT_EQ(v2_.policy().layout(&new_layout).code(), 0);
    EXPECT_EQ(old_layout.task_state_version, 1u);
    EXPECT_EQ(old_layout.task_state_size, sizeof(TaskStateV1));
    EXPECT_EQ(new_layout.task_state_version, 2u);
    EXPECT_EQ(new_layout.task_state_size, sizeof(TaskStateV2));
    EXPECT_EQ(old_layout.run_queue_state_version, new_layout.run_queue_state_version);
}

TEST_F(SchedulerVersions, VersionTwoImportsFullVersionOneArrays) {
    ASSERT_TRUE(v1_.attach(kCpus, kSlots));
    ASSERT_NO_FATAL_FAILURE(populate(v1_.policy()));
    Snapshot before = snapshot_of(v1_.policy());
    ASSERT_EQ(take_over(v2_, v1_), 0) << v2_.take_log();
    expect_same(before, snapshot_of(v2_.policy()));
    // The hook's work, checked in the raw array: explicit slices for tasks in use, free
    // slots still all zero, no wake-up counted yet.
    for (uint32_t task = 0; task < kSlots; ++task) {
        const TaskStateV2& state = v2_tasks()[task];
        if (v1_tasks()[task].run_state == 0) {
            EXPECT_EQ(state.slice_ns, 0u) << "task " << task;
        } else {
            EXPECT_EQ(state.slice_ns, 3 * kMs) << "task " << task;
        }
        EXPECT_EQ(state.wake_count, 0u) << "task " << task;
        EXPECT_EQ(memcmp(&state, &v1_tasks()[task], sizeof(TaskStateV1)), 0) << "task " << task;
    }
    ASSERT_NO_FATAL_FAILURE(run_on(v2_.policy(), 100 * kMs));
    uint8_t preempt = 0;
    policy::TaskInfo blocked{};
    ASSERT_EQ(v2_.policy().task_info(4, &blocked).code(), 0);
    ASSERT_EQ(blocked.state, policy::TaskRunState::Blocked);
    ASSERT_EQ(v2_.policy()
                  .enqueue_task(blocked.cpu, 4, policy::WakeReason::Unblocked, 131 * kMs, &preempt)
                  .code(),
              0);
    EXPECT_EQ(v2_tasks()[4].wake_count, 1u);
}

TEST_F(SchedulerVersions, VersionOneTakesVersionTwoArraysBackByTheirPrefix) {
    ASSERT_TRUE(v2_.attach(kCpus, kSlots));
    ASSERT_NO_FATAL_FAILURE(populate(v2_.policy()));
    EXPECT_EQ(v2_tasks()[7].wake_count, 2u);  // created, then woken once
    Snapshot before = snapshot_of(v2_.policy());
    ASSERT_EQ(take_over(v1_, v2_), 0) << v1_.take_log();
    expect_same(before, snapshot_of(v1_.policy()));
    for (uint32_t task = 0; task < kSlots; ++task) {
        EXPECT_EQ(memcmp(&v1_tasks()[task], &v2_tasks()[task], sizeof(TaskStateV1)), 0)
            << "task " << task;
    }
    ASSERT_NO_FATAL_FAILURE(run_on(v1_.policy(), 100 * kMs));
}

TEST_F(SchedulerVersions, ARoundTripVersionOneTwoOneTwoKeepsEveryTask) {
    ASSERT_TRUE(v1_.attach(kCpus, kSlots));
    ASSERT_NO_FATAL_FAILURE(populate(v1_.policy()));
    Snapshot before = snapshot_of(v1_.policy());
    ASSERT_EQ(take_over(v2_, v1_), 0) << v2_.take_log();
    PolicyUnderTest v1_again(UMKA_SCHEDULER_V1_MODULE);
    ASSERT_TRUE(v1_again.loaded()) << v1_again.reason();
    ASSERT_EQ(take_over(v1_again, v2_), 0) << v1_again.take_log();
    PolicyUnderTest v2_again;
    ASSERT_TRUE(v2_again.loaded()) << v2_again.reason();
    ASSERT_EQ(take_over(v2_again, v1_again), 0) << v2_again.take_log();
    expect_same(before, snapshot_of(v2_again.policy()));
}

TEST_F(SchedulerVersions, ACorruptArrayIsRefusedNamingWhatIsWrong) {
    ASSERT_TRUE(v1_.attach(kCpus, kSlots));
    ASSERT_NO_FATAL_FAILURE(populate(v1_.policy()));
    TaskStateV1& queued = v1_tasks()[5];
    ASSERT_NE(queued.run_state, 0u);
    queued.weight += 1;  // no longer the weight of its nice
    EXPECT_EQ(take_over(v2_, v1_), UMKA_KABI_EINVAL);
    EXPECT_THAT(v2_.take_log(), HasSubstr("import_states: inconsistent scheduler state: task 5 has "
                                          "nice"));
    queued.weight -= 1;
    // A version this module cannot know, and a newer one whose array does not divide into
    // the attached slot count.
    policy::SchedulerPolicyRef scheduler = v2_.policy();
    EXPECT_EQ(scheduler
                  .import_states(v1_.run_queue_buffer().data(), v1_.run_queue_buffer().size(), 1,
                                 v1_.task_buffer().data(), v1_.task_buffer().size(), 0)
                  .code(),
              UMKA_KABI_EINVAL);
    EXPECT_THAT(v2_.take_log(), HasSubstr("TaskState version 0 is unknown to this module"));
    EXPECT_EQ(scheduler
                  .import_states(v1_.run_queue_buffer().data(), v1_.run_queue_buffer().size(), 1,
                                 v1_.task_buffer().data(), v1_.task_buffer().size() - 8, 3)
                  .code(),
              UMKA_KABI_EINVAL);
    EXPECT_THAT(v2_.take_log(), HasSubstr("TaskState version 3 is unknown to this module"));
    // A version-2 array handed to a version-1 module as version 1: wrong element size.
    EXPECT_EQ(v1_.policy()
                  .import_states(v2_.run_queue_buffer().data(), v2_.run_queue_buffer().size(), 1,
                                 v2_.task_buffer().data(), v2_.task_buffer().size(), 1)
                  .code(),
              UMKA_KABI_EINVAL);
    EXPECT_THAT(v1_.take_log(), HasSubstr("do not fit the attached"));
    // The hook's output is checked too: a version-2 slice of zero is no request.
    ASSERT_EQ(take_over(v2_, v1_), 0) << v2_.take_log();
    PolicyUnderTest v2_again;
    ASSERT_TRUE(v2_again.loaded());
    v2_tasks()[5].slice_ns = 0;
    EXPECT_EQ(take_over(v2_again, v2_), UMKA_KABI_EINVAL);
    EXPECT_THAT(v2_again.take_log(), HasSubstr("task 5 has a slice of 0 ns"));
}

// The SchedulerGlobals region through the registered import function, as the nucleus's
// evolve calls it (dry run into scratch, then commit).
class GlobalsImport : public SchedulerVersions {
protected:
    static UmkaStateImportFunction import_function_of(PolicyUnderTest& module) {
        return module.module()->block->binding.import_state;
    }
    static const UmkaStateRegion& region_of(PolicyUnderTest& module) {
        return module.module()->states[0];
    }
    // Imports `from`'s SchedulerGlobals into `into`'s schema; the result in *out.
    template <typename Globals>
    static int32_t import_globals(PolicyUnderTest& into, PolicyUnderTest& from, uint32_t mode,
                                  Globals* out, uint64_t old_size = 0) {
        const UmkaStateRegion& old_region = region_of(from);
        alignas(16) uint8_t scratch[256] = {};
        UmkaStateImport request{};
        request.state_index = 0;
        request.old_schema_version = old_region.schema_version;
        request.old_base = old_region.base;
        request.old_size = old_size != 0 ? old_size : from.module()->manifest().state(0).size;
        request.new_base = scratch;
        request.new_size = into.module()->manifest().state(0).size;
        request.mode = mode;
        int32_t status = import_function_of(into)(&request);
        memcpy(out, scratch, sizeof(Globals));
        return status;
    }
};

TEST_F(GlobalsImport, BothVersionsRegisterAnImportFunction) {
    EXPECT_NE(import_function_of(v1_), nullptr);
    EXPECT_NE(import_function_of(v2_), nullptr);
}

TEST_F(GlobalsImport, VersionTwoDropsAnAttachmentToVersionOneArrays) {
    ASSERT_TRUE(v1_.attach(kCpus, kSlots));
    schema::SchedulerGlobalsV2 imported{};
    ASSERT_EQ(import_globals(v2_, v1_, UMKA_STATE_IMPORT_DRY_RUN, &imported), 0);
    EXPECT_EQ(imported.run_queue_count, 0u);
    EXPECT_EQ(imported.run_queues_address, 0u);
    EXPECT_EQ(imported.tasks_address, 0u);
    EXPECT_EQ(imported.task_capacity, 0u);
    EXPECT_EQ(imported.attach_count, 1u);
    EXPECT_EQ(imported.task_state_version, 0u);
}

TEST_F(GlobalsImport, ASameVersionSuccessorKeepsTheAttachment) {
    ASSERT_TRUE(v2_.attach(kCpus, kSlots));
    schema::SchedulerGlobalsV2 imported{};
    ASSERT_EQ(import_globals(v2_, v2_, UMKA_STATE_IMPORT_COMMIT, &imported), 0);
    EXPECT_EQ(imported.run_queue_count, kCpus);
    EXPECT_EQ(imported.task_capacity, kSlots);
    EXPECT_EQ(imported.tasks_address, uint64_t(uintptr_t(v2_.task_buffer().data())));
    EXPECT_EQ(imported.run_queue_state_version, 1u);
    EXPECT_EQ(imported.task_state_version, 2u);
    ASSERT_TRUE(v1_.attach(kCpus, kSlots));
    PolicyUnderTest v1_again(UMKA_SCHEDULER_V1_MODULE);
    schema::SchedulerGlobalsV1 kept{};
    ASSERT_EQ(import_globals(v1_again, v1_, UMKA_STATE_IMPORT_COMMIT, &kept), 0);
    EXPECT_EQ(kept.run_queue_count, kCpus);
    EXPECT_EQ(kept.tasks_address, uint64_t(uintptr_t(v1_.task_buffer().data())));
}

TEST_F(GlobalsImport, VersionOneDropsAnAttachmentItCannotRead) {
    ASSERT_TRUE(v2_.attach(kCpus, kSlots));
    schema::SchedulerGlobalsV1 imported{};
    ASSERT_EQ(import_globals(v1_, v2_, UMKA_STATE_IMPORT_DRY_RUN, &imported), 0);
    EXPECT_EQ(imported.run_queue_count, 0u);
    EXPECT_EQ(imported.tasks_address, 0u);
    EXPECT_EQ(imported.attach_count, 1u);
}

TEST_F(GlobalsImport, BytesThatAreNoSchedulerGlobalsAreRefused) {
    ASSERT_TRUE(v1_.attach(kCpus, kSlots));
    schema::SchedulerGlobalsV2 imported{};
    EXPECT_EQ(import_globals(v2_, v1_, UMKA_STATE_IMPORT_DRY_RUN, &imported, 12), UMKA_KABI_EINVAL);
    auto* globals = static_cast<schema::SchedulerGlobalsV1*>(region_of(v1_).base);
    globals->tasks_address = 0;  // attached run queues without a task array
    EXPECT_EQ(import_globals(v2_, v1_, UMKA_STATE_IMPORT_DRY_RUN, &imported), UMKA_KABI_EINVAL);
    UmkaStateImport wrong_index{};
    wrong_index.state_index = 1;
    EXPECT_EQ(import_function_of(v2_)(&wrong_index), UMKA_KABI_EINVAL);
}

}  // namespace
