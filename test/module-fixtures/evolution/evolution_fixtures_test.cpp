// The evolution refusal fixtures (README.md), each the very file the bundle carries before
// signing: what makes each one a refusal is checked here with the nucleus's own loader,
// binder and manifest reader, and each is otherwise a working module (so a refusal in
// the QEMU scenario can only come from the reason it is built for).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "module_harness.h"
#include "umka/kabi/scheduler_policy.hpp"

namespace {

using ::testing::HasSubstr;
using umka::harness::HostModule;
using umka::harness::ModuleHarness;
namespace policy = umka::kabi::scheduler_policy;

const UmkaStateRegion& globals_of(HostModule& module) {
    return module.states[0];
}

// One dry-run import of `from`'s SchedulerGlobals by `into`'s registered function.
int32_t dry_run_import(HostModule& into, HostModule& from) {
    alignas(16) uint8_t scratch[256] = {};
    UmkaStateImport request{0,
                            globals_of(from).schema_version,
                            globals_of(from).base,
                            from.manifest().state(0).size,
                            scratch,
                            sizeof(scratch),
                            UMKA_STATE_IMPORT_DRY_RUN,
                            0};
    UmkaStateImportFunction import = into.block->binding.import_state;
    return import == nullptr ? -1 : import(&request);
}

TEST(EvolutionFixtures, RefusesStateIsAWorkingSchedulerWhoseImportRefuses) {
    ModuleHarness harness;
    HostModule* running = harness.load(UMKA_SCHEDULER_MODULE);
    ASSERT_NE(running, nullptr) << harness.last_reason();
    ModuleHarness other;
    HostModule* fixture = other.load(umka::harness::module_under_test());
    ASSERT_NE(fixture, nullptr) << other.last_reason();
    EXPECT_STREQ(fixture->manifest().name(), "scheduler");
    policy::SchedulerPolicyRef scheduler;
    ASSERT_TRUE(
        other.bind_provided(*fixture, "scheduler_policy", "SchedulerPolicy", &scheduler).is_ok());
    policy::PolicyLayout layout{};
    EXPECT_EQ(scheduler.layout(&layout).code(), 0);
    EXPECT_EQ(dry_run_import(*fixture, *running), UMKA_KABI_EPROTO);
    EXPECT_EQ(dry_run_import(*running, *running), 0);  // the real one takes itself over
}

TEST(EvolutionFixtures, CounterProvidesAnotherInterfaceUnderTheSchedulersName) {
    ModuleHarness harness;
    HostModule* fixture = harness.load(UMKA_COUNTER_SCHEDULER_MODULE);
    ASSERT_NE(fixture, nullptr) << harness.last_reason();
    const auto& manifest = fixture->manifest();
    EXPECT_STREQ(manifest.name(), "scheduler");
    ASSERT_EQ(manifest.provided_count(), 1u);
    EXPECT_STREQ(manifest.provided(0).package, "module_fixture");
    EXPECT_STREQ(manifest.provided(0).name, "Counter");
    EXPECT_EQ(manifest.find_provided("scheduler_policy", "SchedulerPolicy"),
              umka::modules::ManifestView::kNotFound);
}

TEST(EvolutionFixtures, PolicyVersionOneDeclaresTheOldInterfaceVersion) {
    ModuleHarness harness;
    HostModule* fixture = harness.load(UMKA_POLICY_V1_SCHEDULER_MODULE);
    ASSERT_NE(fixture, nullptr) << harness.last_reason();
    const auto& manifest = fixture->manifest();
    EXPECT_STREQ(manifest.name(), "scheduler");
    EXPECT_EQ(manifest.module_version(), 1u);
    size_t index = manifest.find_provided("scheduler_policy", "SchedulerPolicy");
    ASSERT_NE(index, umka::modules::ManifestView::kNotFound);
    // The nucleus and every other consumer require SchedulerPolicy >= 2.
    EXPECT_EQ(manifest.provided(index).version, 1u);
}

TEST(EvolutionFixtures, WritableGlobalIsRefusedByTheLoaderNamingTheVariable) {
    ModuleHarness harness;
    EXPECT_EQ(harness.load(UMKA_WRITABLE_GLOBAL_SCHEDULER_MODULE), nullptr);
    EXPECT_EQ(harness.last_error(), umka::Errno::ExecFormat);
    EXPECT_THAT(harness.last_reason(), HasSubstr("writable section '.bss' holds"));
    EXPECT_THAT(harness.last_reason(), HasSubstr("imports_seen"));
}

}  // namespace
