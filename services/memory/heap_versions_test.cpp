// kernel_heap.umod (HeapState version 1) and kernel_heap-v2.umod (version 2), each the ELF
// that is signed, swapped both ways as the nucleus's evolve does it (ModuleHarness::evolve):
// the replacement is bound withheld on a fresh state region, its import function takes the
// predecessor's HeapState (dry run into scratch, then commit), the Heap slot switches, the
// predecessor is unloaded. Every allocation made before a swap stays intact and is freed after it;
// version 2's new statistic is derived on the way up.
#include <gmock/gmock.h>

#include <cstring>

#include "heap_test_support.h"

namespace umka::heap_test {
namespace {

using HeapStateV1 = layout::HeapStateV1;
using HeapStateV2 = layout::HeapStateV2;
static_assert(layout::heap_state_version == 2, "compiled against version 2's headers");

struct Held {
    uint64_t address;
    uint64_t size;
    uint8_t fill;
};

class HeapVersions : public HeapTest {
protected:
    void SetUp() override {
        ASSERT_TRUE(
            harness_.provide("kernel_services", "ModuleMemory", memory_.vtable(), &memory_).is_ok())
            << harness_.last_reason();
        module_ = harness_.load(UMKA_KERNEL_HEAP_V1_MODULE);
        ASSERT_NE(module_, nullptr) << harness_.last_reason();
        ASSERT_TRUE(harness_.bind_provided(*module_, "memory", "Heap", &heap_).is_ok());
    }

    // `evolve kernel_heap <path>` (ModuleHarness::evolve plays the nucleus); the import's
    // errno when refused (the old heap keeps serving then), else 0.
    int32_t evolve(const char* path) {
        HostModule* replacement = harness_.evolve(module_, path);
        if (replacement == nullptr) return static_cast<int32_t>(harness_.last_error());
        module_ = replacement;
        EXPECT_TRUE(harness_.bind_provided(*module_, "memory", "Heap", &heap_).is_ok());
        return 0;
    }
    int32_t evolve_to_v2() { return evolve(umka::harness::module_under_test()); }
    int32_t evolve_to_v1() { return evolve(UMKA_KERNEL_HEAP_V1_MODULE); }

    // Allocations of every class on several CPUs, large ones, and objects parked in the
    // magazines (freed right away, so they are cached, not in slabs).
    void allocate_some(std::vector<Held>& held, uint32_t rounds, uint8_t salt) {
        for (uint32_t round = 0; round < rounds; ++round) {
            uint64_t size =
                round % 10 == 9 ? 5000 + round * 100 : kClassSizes[(round + salt) % kClassCount];
            uint64_t address = allocate(round % 4, size);
            ASSERT_NE(address, 0u);
            uint8_t fill = uint8_t(round * 7 + salt);
            std::memset(reinterpret_cast<void*>(address), fill, size);
            held.push_back(Held{address, size, fill});
        }
        for (uint32_t round = 0; round < rounds / 2; ++round) {
            free(round % 4, allocate(round % 4, 96));
        }
    }
    void free_all_intact(std::vector<Held>& held) {
        for (size_t at = 0; at < held.size(); ++at) {
            const Held& old = held[at];
            const auto* bytes = reinterpret_cast<const uint8_t*>(old.address);
            for (uint64_t offset = 0; offset < old.size; ++offset) {
                ASSERT_EQ(bytes[offset], old.fill) << hex(old.address) << " offset " << offset;
            }
            free(uint32_t(at % 5), old.address);
        }
        held.clear();
    }
};

TEST_F(HeapVersions, ManifestsTellTheTwoVersionsApart) {
    EXPECT_STREQ(module_->manifest().name(), "kernel_heap");
    EXPECT_EQ(module_->manifest().module_version(), 1u);
    EXPECT_EQ(module_->manifest().state(0).version, 1u);
    EXPECT_EQ(module_->manifest().state(0).size, sizeof(HeapStateV1));
    ASSERT_EQ(evolve_to_v2(), 0);
    EXPECT_STREQ(module_->manifest().name(), "kernel_heap");
    EXPECT_EQ(module_->manifest().module_version(), 2u);
    EXPECT_EQ(module_->manifest().state(0).version, 2u);
    EXPECT_EQ(module_->manifest().state(0).size, sizeof(HeapStateV2));
}

TEST_F(HeapVersions, VersionTwoFreesWhatVersionOneHandedOutAndBack) {
    std::vector<Held> held;
    ASSERT_NO_FATAL_FAILURE(allocate_some(held, 300, 1));
    memory::HeapStatistics before = statistics();
    uint64_t regions_before = memory_.live_regions();
    ASSERT_GT(before.large_bytes, 0u);

    ASSERT_EQ(evolve_to_v2(), 0);
    EXPECT_EQ(memory_.live_regions(), regions_before) << "the swap itself took or gave memory";
    auto& upgraded = *static_cast<HeapStateV2*>(module_->states[0].base);
    EXPECT_EQ(upgraded.large_bytes_peak, before.large_bytes);
    memory::HeapStatistics adopted = statistics();
    EXPECT_EQ(adopted.regions, before.regions);
    EXPECT_EQ(adopted.large_allocations, before.large_allocations);
    EXPECT_EQ(adopted.cpu_caches, before.cpu_caches);
    expect_books_balance("right after the swap to version 2");
    // Version 2 serves next to the old allocations and keeps its peak.
    uint64_t big = allocate(1, 1 << 20);
    ASSERT_NE(big, 0u);
    EXPECT_EQ(upgraded.large_bytes_peak, statistics().large_bytes);
    uint64_t peak = upgraded.large_bytes_peak;
    free(1, big);
    EXPECT_EQ(upgraded.large_bytes_peak, peak);
    ASSERT_NO_FATAL_FAILURE(allocate_some(held, 100, 2));

    ASSERT_EQ(evolve_to_v1(), 0);  // every allocation of both instances, freed through v1
    expect_books_balance("right after the swap back to version 1");
    ASSERT_NO_FATAL_FAILURE(free_all_intact(held));
    expect_books_balance("after freeing through version 1");
    reclaim_all(5);
    expect_only_metadata_held("after version 1 -> 2 -> 1 and reclaim");
    EXPECT_EQ(memory_.bad_requests(), 0u);
}

TEST_F(HeapVersions, OtherSizeClassesAreRefusedAndTheOldHeapKeepsServing) {
    std::vector<Held> held;
    ASSERT_NO_FATAL_FAILURE(allocate_some(held, 40, 3));
    HostModule* original = module_;
    auto& old_state = *static_cast<HeapStateV1*>(module_->states[0].base);
    old_state.classes[5].object_size += 8;
    EXPECT_EQ(evolve_to_v2(), UMKA_KABI_EINVAL);
    old_state.classes[5].object_size -= 8;
    EXPECT_EQ(module_, original);
    old_state.layout_version = 2;
    EXPECT_EQ(evolve_to_v2(), UMKA_KABI_EINVAL);
    old_state.layout_version = 1;
    ASSERT_NO_FATAL_FAILURE(free_all_intact(held));
    expect_books_balance("after two refused swaps");
}

}  // namespace
}  // namespace umka::heap_test
