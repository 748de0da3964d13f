// A swap of the heap: a second instance of kernel_heap.elf is bound to the first one's state
// region (origin CARRIED) and so to every page the first obtained, takes over the service
// slot, and the first instance is unloaded. Every allocation the first handed out must
// stay intact and be freed through the second, which then goes on serving; afterwards the
// books balance and nothing is lost. Also: what a second instance refuses to adopt.
#include <gmock/gmock.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "heap_test_support.h"

namespace umka::heap_test {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

struct Held {
    uint64_t address;
    uint64_t size;
    uint8_t fill;
};

class HeapSwap : public HeapTest {
protected:
    // Options that load a second instance on the current instance's state region.
    LoadOptions carried_options() const {
        LoadOptions options;
        options.carried_states = module_->states;
        options.carried_states[0].origin = UMKA_STATE_ORIGIN_CARRIED;
        options.carried_memory = module_->state_memory;
        options.publication = umka::modules::Publication::Withhold;
        return options;
    }

    // Options that load a second instance on a copy of the state, edited by `edit`.
    template <typename Edit>
    LoadOptions edited_copy(Edit edit) {
        LoadOptions options = carried_options();
        size_t size = module_->states[0].size;
        void* copy = aligned_alloc(64, (size + 63) & ~size_t(63));
        std::memcpy(copy, module_->states[0].base, size);
        edit(*static_cast<HeapState*>(copy), options.carried_states[0]);
        options.carried_states[0].base = copy;
        options.carried_memory = {std::shared_ptr<void>(copy, &::free)};
        return options;
    }
};

TEST_F(HeapSwap, ASecondInstanceOnTheSameStateFreesEverythingTheFirstHandedOut) {
    // Allocations of every class on several CPUs, large ones, and objects parked in the
    // CPUs' magazines and the depot (freed, so they are cached, not in slabs).
    std::vector<Held> held;
    for (uint32_t round = 0; round < 400; ++round) {
        uint64_t size = round % 10 == 9 ? 3000 + round * 100 : kClassSizes[round % kClassCount];
        uint64_t address = allocate(round % 4, size);
        ASSERT_NE(address, 0u);
        uint8_t fill = uint8_t(round * 7 + 1);
        std::memset(reinterpret_cast<void*>(address), fill, size);
        held.push_back(Held{address, size, fill});
    }
    for (uint32_t round = 0; round < 300; ++round) free(round % 4, allocate(round % 4, 64));
    memory::HeapStatistics before = statistics();
    uint64_t regions_before = memory_.live_regions();
    HostModule* first = module_;

    ASSERT_NO_FATAL_FAILURE(load(carried_options()));
    HostModule* second = module_;
    ASSERT_NE(second, first);
    ASSERT_TRUE(harness_.swap(first, second).is_ok()) << harness_.last_reason();
    ASSERT_TRUE(harness_.unload(first).is_ok()) << harness_.last_reason();
    // Entry said nothing (it cannot reach the Log); the committed instance's start does.
    EXPECT_THAT(harness_.log().lines(), Not(Contains(HasSubstr("adopted"))));
    ASSERT_TRUE(harness_.start(second).is_ok()) << harness_.last_reason();
    EXPECT_THAT(harness_.log().lines(),
                Contains(HasSubstr("heap: adopted a carried state: " +
                                   std::to_string(before.regions) + " regions, ")));
    // The slot now leads to the second instance's code, on the same state.
    ASSERT_TRUE(harness_.bind_provided(*second, "memory", "Heap", &heap_).is_ok());
    EXPECT_TRUE(second->loaded.contains(heap_.vtable(), 8));
    EXPECT_EQ(memory_.live_regions(), regions_before) << "the swap itself took or gave memory";
    memory::HeapStatistics adopted = statistics();
    EXPECT_EQ(adopted.regions, before.regions);
    EXPECT_EQ(adopted.large_allocations, before.large_allocations);
    EXPECT_EQ(adopted.cpu_caches, before.cpu_caches);

    // The second instance serves new requests next to the old allocations, without overlap.
    std::vector<Held> fresh;
    for (uint32_t round = 0; round < 200; ++round) {
        uint64_t size = kClassSizes[(round * 5) % kClassCount];
        uint64_t address = allocate((round + 1) % 5, size);  // CPU 4 is new to both
        ASSERT_NE(address, 0u);
        for (const Held& old : held) {
            ASSERT_TRUE(address + size <= old.address || old.address + old.size <= address)
                << hex(address) << " overlaps " << hex(old.address)
                << " handed out before the swap";
        }
        std::memset(reinterpret_cast<void*>(address), 0xEE, size);
        fresh.push_back(Held{address, size, 0xEE});
    }
    // Every allocation of the first instance is intact and is freed through the second.
    for (size_t at = 0; at < held.size(); ++at) {
        const Held& old = held[at];
        auto* bytes = reinterpret_cast<const uint8_t*>(old.address);
        for (uint64_t offset = 0; offset < old.size; ++offset) {
            ASSERT_EQ(bytes[offset], old.fill) << hex(old.address) << " offset " << offset;
        }
        EXPECT_EQ(usable_size(old.address) >= old.size, true) << hex(old.address);
        free(uint32_t(at % 5), old.address);
    }
    for (const Held& held_fresh : fresh) free(0, held_fresh.address);
    expect_books_balance("after freeing through the second instance");
    reclaim_all(5);
    expect_only_metadata_held("after the swap and reclaim");
    EXPECT_EQ(memory_.bad_requests(), 0u);
}

TEST_F(HeapSwap, AStateInAnotherMetadataLayoutIsRefused) {
    free(0, allocate(0, 64));
    LoadOptions options =
        edited_copy([](HeapState& state, UmkaStateRegion&) { state.layout_version = 2; });
    EXPECT_EQ(harness_.load(umka::harness::module_under_test(), options), nullptr);
    EXPECT_THAT(harness_.last_reason(), HasSubstr("returned 22 (EINVAL)"));
    EXPECT_THAT(harness_.last_reason(),
                HasSubstr("heap: refusing the state region: metadata layout version is 2"));
}

TEST_F(HeapSwap, AStateWithOtherSizeClassesIsRefused) {
    LoadOptions options =
        edited_copy([](HeapState& state, UmkaStateRegion&) { state.classes[5].object_size = 88; });
    EXPECT_EQ(harness_.load(umka::harness::module_under_test(), options), nullptr);
    EXPECT_THAT(harness_.last_reason(),
                HasSubstr("heap: refusing the state region: its size classes differ from this "
                          "module's at class 5"));
}

TEST_F(HeapSwap, AStateOfAnotherSchemaVersionIsRefused) {
    LoadOptions options =
        edited_copy([](HeapState&, UmkaStateRegion& region) { region.schema_version = 2; });
    EXPECT_EQ(harness_.load(umka::harness::module_under_test(), options), nullptr);
    EXPECT_THAT(harness_.last_reason(),
                HasSubstr("heap: refusing the state region: schema version is 2"));
}

TEST_F(HeapSwap, ACarriedStateNeverSetUpIsSetUpAsFresh) {
    LoadOptions options = edited_copy(
        [](HeapState& state, UmkaStateRegion&) { std::memset(&state, 0, sizeof(state)); });
    options.publication = umka::modules::Publication::Publish;
    ASSERT_TRUE(harness_.unload(module_).is_ok()) << harness_.last_reason();
    ASSERT_NO_FATAL_FAILURE(load(options));
    EXPECT_EQ(state().layout_version, 1u);
    free(0, allocate(0, 200));
    expect_books_balance("on the state set up at adoption");
}

}  // namespace
}  // namespace umka::heap_test
