// The fixture modules driven through the host harness: the real ELF files, loaded by the
// nucleus's loader, bound by its binder to host providers, called through their slots.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "module_harness.h"
#include "umka/kabi/module_fixture.hpp"
#include "umka/kabi/module_fixture_state.hpp"

namespace {

using ::testing::HasSubstr;
using umka::Errno;
using umka::harness::HostModule;
using umka::harness::LoadOptions;
using umka::harness::ModuleHarness;
using umka::modules::CapabilityHandle;
using umka::modules::Rights;
namespace fixture = umka::kabi::module_fixture;

std::vector<std::string> services(ModuleHarness& harness) {
    std::vector<std::string> rows;
    harness.registry().for_each_binding(
        [](void* context, const umka::modules::ServiceBindingView& row) {
            static_cast<std::vector<std::string>*>(context)->push_back(
                std::string(row.consumer) + " -> " + row.provider + " " + row.package + "." +
                row.name + " v" + std::to_string(row.provider_version));
        },
        &rows);
    return rows;
}

TEST(CounterModule, LoadsBindsAndCountsInNucleusState) {
    ModuleHarness harness;
    HostModule* counter = harness.load(umka::harness::module_under_test());
    ASSERT_NE(counter, nullptr) << harness.last_reason();
    EXPECT_STREQ(counter->name(), "counter_module");
    EXPECT_EQ(harness.log().lines(), (std::vector<std::string>{"counter_module bound"}));

    fixture::CounterRef ref;
    ASSERT_TRUE(harness.bind_provided(*counter, "module_fixture", "Counter", &ref).is_ok());
    EXPECT_EQ(ref.provider_version(), 2u);
    EXPECT_EQ(ref.add(5), 5u);
    EXPECT_EQ(ref.add(7), 12u);
    EXPECT_EQ(ref.total(), 12u);
    ASSERT_TRUE(ref.announce().is_ok());
    EXPECT_EQ(harness.log().lines().back(), "total 12");

    // The state is the harness's memory (nucleus-owned), not the module's.
    auto* state = static_cast<fixture::CounterState*>(counter->states[0].base);
    EXPECT_EQ(state->total, 12u);
    EXPECT_EQ(state->calls, 2u);

    EXPECT_EQ(services(harness),
              (std::vector<std::string>{"counter_module -> nucleus kernel_services.Log v1",
                                        "counter_module -> nucleus kernel_services.Clock v1"}));
}

TEST(CounterModule, EveryRequiredServiceIsACapability) {
    ModuleHarness harness;
    HostModule* counter = harness.load(umka::harness::module_under_test());
    ASSERT_NE(counter, nullptr) << harness.last_reason();
    const UmkaModuleBinding& binding = counter->block->binding;
    ASSERT_EQ(binding.required_count, 2u);
    CapabilityHandle log{binding.required[0].capability};
    auto info = harness.capabilities().lookup(log, Rights::Call);
    ASSERT_TRUE(info.is_ok());
    EXPECT_EQ(info.value().object, binding.required[0].slot);
    EXPECT_EQ(info.value().owner, counter->owner);
    EXPECT_EQ(harness.capabilities().lookup(log, Rights::Swap).error(), Errno::NotPermitted);

    ASSERT_TRUE(harness.unload(counter).is_ok());
    EXPECT_EQ(harness.capabilities().lookup(log, Rights::Call).error(), Errno::BadAddress);
    EXPECT_EQ(harness.capabilities().live_count(), 0u);
    EXPECT_TRUE(services(harness).empty());
    EXPECT_EQ(harness.memory().live_reservations(), 0u);
}

TEST(CounterModule, ProbeCallsCounterThroughItsSlot) {
    ModuleHarness harness;
    HostModule* counter = harness.load(umka::harness::module_under_test());
    ASSERT_NE(counter, nullptr) << harness.last_reason();
    HostModule* probe = harness.load(UMKA_PROBE_MODULE);
    ASSERT_NE(probe, nullptr) << harness.last_reason();

    fixture::ProbeRef ref;
    ASSERT_TRUE(harness.bind_provided(*probe, "module_fixture", "Probe", &ref).is_ok());
    EXPECT_EQ(ref.add_through_counter(3), 3u);
    EXPECT_EQ(ref.add_through_counter(4), 7u);
    EXPECT_EQ(ref.last_provider_version(), 2u);
    EXPECT_EQ(static_cast<fixture::CounterState*>(counter->states[0].base)->total, 7u);
    EXPECT_THAT(services(harness),
                ::testing::Contains("probe_module -> counter_module module_fixture.Counter v2"));

    // The provider cannot go while the probe is bound to it.
    EXPECT_EQ(harness.unload(counter).error(), Errno::Busy);
    EXPECT_EQ(harness.last_reason(),
              "module_fixture.Counter from 'counter_module' is in use by 'probe_module'");
    ASSERT_TRUE(harness.unload(probe).is_ok());
    ASSERT_TRUE(harness.unload(counter).is_ok());
}

TEST(CounterModule, LiveSwapKeepsStateAndRedirectsCallers) {
    ModuleHarness harness;
    HostModule* old_counter = harness.load(umka::harness::module_under_test());
    ASSERT_NE(old_counter, nullptr) << harness.last_reason();
    HostModule* probe = harness.load(UMKA_PROBE_MODULE);
    ASSERT_NE(probe, nullptr) << harness.last_reason();
    fixture::ProbeRef ref;
    ASSERT_TRUE(harness.bind_provided(*probe, "module_fixture", "Probe", &ref).is_ok());
    EXPECT_EQ(ref.add_through_counter(10), 10u);

    // A second instance of the same ELF, bound Withheld, taking over the state region.
    LoadOptions options;
    options.carried_states = old_counter->states;
    options.carried_states[0].origin = UMKA_STATE_ORIGIN_CARRIED;
    options.carried_memory = old_counter->state_memory;
    options.publication = umka::modules::Publication::Withhold;
    HostModule* new_counter = harness.load(umka::harness::module_under_test(), options);
    ASSERT_NE(new_counter, nullptr) << harness.last_reason();

    UmkaServiceSlot* slot = harness.registry().find("module_fixture", "Counter", nullptr).value();
    const UmkaServiceRecord* before = umka_service_slot_load(slot);
    ASSERT_TRUE(harness.swap(old_counter, new_counter).is_ok()) << harness.last_reason();
    const UmkaServiceRecord* after = umka_service_slot_load(slot);
    EXPECT_NE(after, before);
    EXPECT_TRUE(new_counter->loaded.contains(after->vtable, 8));
    EXPECT_FALSE(old_counter->loaded.contains(after->vtable, 8));

    // The probe's next call goes to the new code and the carried state.
    EXPECT_EQ(ref.add_through_counter(5), 15u);
    // The old module publishes nothing now and can go.
    ASSERT_TRUE(harness.unload(old_counter).is_ok()) << harness.last_reason();
    EXPECT_EQ(ref.add_through_counter(1), 16u);
}

TEST(CounterModule, EntryErrorUndoesTheBinding) {
    ModuleHarness harness;
    EXPECT_EQ(harness.load(UMKA_FAILING_ENTRY_MODULE), nullptr);
    EXPECT_EQ(harness.last_error(), Errno::InvalidArgument);
    EXPECT_EQ(harness.last_reason(), "umka_module_entry of 'counter_module' returned 22 (EINVAL)");
    EXPECT_EQ(harness.capabilities().live_count(), 0u);
    EXPECT_TRUE(services(harness).empty());
    EXPECT_EQ(harness.memory().live_reservations(), 0u);
    EXPECT_EQ(harness.registry().find("module_fixture", "Counter", nullptr).error(),
              Errno::NotFound);
}

TEST(CounterModule, VtableOutsideTheImageIsRefused) {
    ModuleHarness harness;
    EXPECT_EQ(harness.load(UMKA_STRAY_VTABLE_MODULE), nullptr);
    EXPECT_EQ(harness.last_error(), Errno::ExecFormat);
    EXPECT_THAT(harness.last_reason(),
                HasSubstr("module 'counter_module': vtable of module_fixture.Counter at 0x"));
    EXPECT_THAT(harness.last_reason(), HasSubstr("is outside the module image"));
    EXPECT_EQ(harness.capabilities().live_count(), 0u);
    EXPECT_EQ(harness.memory().live_reservations(), 0u);
}

// The state import function is checked before the vtables: it must lie in the image too.
TEST(CounterModule, StateImportFunctionOutsideTheImageIsRefused) {
    ModuleHarness harness;
    EXPECT_EQ(harness.load(UMKA_STRAY_IMPORT_MODULE), nullptr);
    EXPECT_EQ(harness.last_error(), Errno::ExecFormat);
    EXPECT_THAT(harness.last_reason(),
                HasSubstr("module 'counter_module': its state import function at 0x"));
    EXPECT_THAT(harness.last_reason(), HasSubstr("is outside the module image"));
    EXPECT_EQ(harness.capabilities().live_count(), 0u);
    EXPECT_EQ(harness.memory().live_reservations(), 0u);
}

TEST(CounterModule, MissingServiceIsNamed) {
    ModuleHarness harness;
    UmkaServiceSlot* clock = harness.registry().find("kernel_services", "Clock", nullptr).value();
    umka::modules::Diagnostic diagnostic;
    ASSERT_TRUE(harness.registry().unpublish(clock, diagnostic).is_ok());
    EXPECT_EQ(harness.load(umka::harness::module_under_test()), nullptr);
    EXPECT_EQ(harness.last_error(), Errno::NotFound);
    EXPECT_EQ(harness.last_reason(),
              "module 'counter_module' requires kernel_services.Clock >= 1 but no provider has "
              "published it");
    EXPECT_TRUE(services(harness).empty());  // the Log binding made first was undone
    EXPECT_EQ(harness.capabilities().live_count(), 0u);
}

TEST(CounterModule, BindsToTheProviderTheResolverChose) {
    ModuleHarness harness;
    umka::harness::RecordingLog private_log;
    ASSERT_TRUE(
        harness.provide("kernel_services", "Log", private_log.vtable(), &private_log, "test_log")
            .is_ok());
    LoadOptions options;
    options.providers = {"test_log", umka::modules::kNucleusProviderName};
    HostModule* counter = harness.load(umka::harness::module_under_test(), options);
    ASSERT_NE(counter, nullptr) << harness.last_reason();
    EXPECT_EQ(private_log.lines(), (std::vector<std::string>{"counter_module bound"}));
    EXPECT_TRUE(harness.log().lines().empty());
    EXPECT_THAT(services(harness),
                ::testing::Contains("counter_module -> test_log kernel_services.Log v1"));

    options.providers = {"nobody", umka::modules::kNucleusProviderName};
    EXPECT_EQ(harness.load(umka::harness::module_under_test(), options), nullptr);
    EXPECT_EQ(harness.last_reason(),
              "module 'counter_module' requires kernel_services.Log >= 1 but 'nobody' has not "
              "published it");
}

TEST(CounterModule, ProbeWithoutCounterIsRefused) {
    ModuleHarness harness;
    EXPECT_EQ(harness.load(UMKA_PROBE_MODULE), nullptr);
    EXPECT_EQ(harness.last_reason(),
              "module 'probe_module' requires module_fixture.Counter >= 2 but no provider has "
              "published it");
}

}  // namespace
