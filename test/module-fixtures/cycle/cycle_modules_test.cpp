// The cycle fixture modules (cycle_a, cycle_b): the resolver refuses the pair, naming the
// cycle, before either is loaded; each module on its own is real (it loads, binds and
// answers through its slot when a host provides the other half).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "module_harness.h"
#include "nucleus/module/dependency_resolver.h"
#include "umka/kabi/cycle.hpp"
#include "umka/kabi/cycle_state.hpp"
#include "umka/kabi/nucleus_manifest.hpp"

namespace {

using ::testing::HasSubstr;
using umka::Errno;
using umka::harness::HostModule;
using umka::harness::ModuleHarness;
using umka::modules::DependencyResolver;
using umka::modules::Diagnostic;
using umka::modules::ManifestView;
using umka::modules::ModuleOutcome;
namespace cycle = umka::kabi::cycle;

const char* const kCycleA = UMKA_MODULE_UNDER_TEST;
const char* const kCycleB = UMKA_CYCLE_B_MODULE;

// A module file loaded (not bound) with the nucleus's loader, for its manifest.
struct LoadedFile {
    std::vector<uint8_t> bytes;
    umka::modules::LoadedModule loaded{};
};

void load_file(const char* path, umka::harness::MmapModuleMemory& memory, LoadedFile& file) {
    std::string error;
    ASSERT_TRUE(umka::harness::read_file(path, file.bytes, &error)) << error;
    Diagnostic diagnostic;
    auto loaded = umka::modules::load_module(file.bytes.data(), file.bytes.size(), memory.memory(),
                                             diagnostic);
    ASSERT_TRUE(loaded.is_ok()) << path << ": " << diagnostic.text();
    file.loaded = loaded.value();
}

TEST(CycleModules, ResolverRefusesBothNamingTheCycle) {
    umka::harness::MmapModuleMemory memory;
    LoadedFile a;
    LoadedFile b;
    ASSERT_NO_FATAL_FAILURE(load_file(kCycleA, memory, a));
    ASSERT_NO_FATAL_FAILURE(load_file(kCycleB, memory, b));
    EXPECT_STREQ(a.loaded.manifest_view.name(), "cycle_a");
    EXPECT_STREQ(b.loaded.manifest_view.name(), "cycle_b");

    // The nucleus's real manifest: what it provides is always available, and it is not A/B.
    Diagnostic diagnostic;
    auto nucleus = ManifestView::parse(&umka::kabi::nucleus::nucleus_manifest,
                                       sizeof(umka::kabi::nucleus::nucleus_manifest), diagnostic);
    ASSERT_TRUE(nucleus.is_ok()) << diagnostic.text();

    std::vector<umka::modules::ResolverModule> modules(4);
    std::vector<umka::modules::ProviderChoice> choices(8);
    std::vector<uint16_t> order(4);
    DependencyResolver resolver(
        {modules.data(), modules.size(), choices.data(), choices.size(), order.data()},
        &nucleus.value());
    auto index_a = resolver.add(a.loaded.manifest_view, diagnostic);
    auto index_b = resolver.add(b.loaded.manifest_view, diagnostic);
    ASSERT_TRUE(index_a.is_ok() && index_b.is_ok()) << diagnostic.text();
    resolver.resolve();

    EXPECT_EQ(resolver.outcome(index_a.value()), ModuleOutcome::Cycle);
    EXPECT_EQ(resolver.outcome(index_b.value()), ModuleOutcome::Cycle);
    EXPECT_STREQ(resolver.reason(index_a.value()), "cycle: cycle_a -> cycle_b -> cycle_a");
    EXPECT_STREQ(resolver.reason(index_b.value()), "cycle: cycle_a -> cycle_b -> cycle_a");
    EXPECT_EQ(resolver.next_to_load(), DependencyResolver::kNone);

    umka::modules::unload_module(a.loaded, memory.memory());
    umka::modules::unload_module(b.loaded, memory.memory());
    EXPECT_EQ(memory.live_reservations(), 0u);
}

// A host stand-in for the other half of the cycle.
struct HostCounter {
    static uint64_t count(void* context) { return ++*static_cast<uint64_t*>(context); }
};

template <typename Ref, typename OtherVtable, typename State>
void expect_module_counts(const char* path, const char* provided, const char* required,
                          const OtherVtable& other) {
    ModuleHarness harness;
    uint64_t other_calls = 0;
    ASSERT_TRUE(harness.provide("cycle", required, &other, &other_calls).is_ok())
        << harness.last_reason();
    HostModule* module = harness.load(path);
    ASSERT_NE(module, nullptr) << harness.last_reason();

    Ref ref;
    ASSERT_TRUE(harness.bind_provided(*module, "cycle", provided, &ref).is_ok());
    EXPECT_EQ(ref.count(), 1u);
    EXPECT_EQ(ref.count(), 2u);
    EXPECT_EQ(static_cast<State*>(module->states[0].base)->calls, 2u);
    EXPECT_EQ(other_calls, 0u);  // bound, not called: the entry only checks it is there
    ASSERT_TRUE(harness.unload(module).is_ok()) << harness.last_reason();
}

TEST(CycleModules, CycleALoadsAndCountsAgainstAHostB) {
    constexpr cycle::BVtable host_b = cycle::make_b_vtable<HostCounter>();
    expect_module_counts<cycle::ARef, cycle::BVtable, cycle::CycleAState>(kCycleA, "A", "B",
                                                                          host_b);
}

TEST(CycleModules, CycleBLoadsAndCountsAgainstAHostA) {
    constexpr cycle::AVtable host_a = cycle::make_a_vtable<HostCounter>();
    expect_module_counts<cycle::BRef, cycle::AVtable, cycle::CycleBState>(kCycleB, "B", "A",
                                                                          host_a);
}

// Loading one half without the other is refused by the binder, naming the interface.
TEST(CycleModules, WithoutTheOtherHalfBindingIsRefused) {
    ModuleHarness harness;
    EXPECT_EQ(harness.load(kCycleA), nullptr);
    EXPECT_EQ(harness.last_error(), Errno::NotFound);
    EXPECT_THAT(harness.last_reason(), HasSubstr("cycle.B"));
    EXPECT_EQ(harness.memory().live_reservations(), 0u);
}

}  // namespace
