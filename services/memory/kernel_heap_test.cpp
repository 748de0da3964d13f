// kernel_heap through the host harness: the real kernel_heap.elf (the file that is signed
// and boots) bound to HostModuleMemory. Single-threaded behaviour: classes, alignment,
// usable sizes, large allocations, out of memory, bad frees, the per-CPU rule, reclaim
// and the statistics against a model. heap_property_test.cpp has the threaded property
// test, heap_swap_test.cpp the re-bind of a second instance.
#include <gmock/gmock.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <utility>

#include "heap_test_support.h"

namespace umka::heap_test {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

TEST_F(HeapTest, ReportsTheSizeClassTable) {
    ASSERT_EQ(heap_.class_count(), kClassCount);
    for (uint32_t index = 0; index < kClassCount; ++index) {
        memory::HeapClassStatistics figures = class_statistics(index);
        EXPECT_EQ(figures.object_size, kClassSizes[index]) << "class " << index;
        EXPECT_EQ(figures.slab_bytes % kPage, 0u) << "class " << index;
        EXPECT_EQ(figures.slab_bytes & (figures.slab_bytes - 1), 0u)
            << "class " << index << ": slabs are power-of-two runs of pages";
        EXPECT_GE(figures.objects_per_slab, 8u) << "class " << index;
        EXPECT_LE(uint64_t(figures.objects_per_slab) * figures.object_size + 64, figures.slab_bytes)
            << "class " << index << ": objects and the 64-byte slab record must fit";
        EXPECT_GE(figures.magazine_capacity, 8u) << "class " << index;
        EXPECT_LE(figures.magazine_capacity, 62u) << "class " << index;
        if (index > 0 && kClassSizes[index] > 128) {
            EXPECT_LE(kClassSizes[index] * 4, kClassSizes[index - 1] * 5) << "step above 1.25x";
        }
    }
    memory::HeapClassStatistics ignored{};
    EXPECT_EQ(heap_.class_statistics(kClassCount, &ignored).code(), UMKA_KABI_EINVAL);
    EXPECT_EQ(statistics().class_count, kClassCount);
}

TEST_F(HeapTest, EverySizeLandsInTheSmallestClassThatHoldsIt) {
    for (uint64_t size = 1; size <= kLargestClass; ++size) {
        uint64_t address = allocate(0, size);
        ASSERT_NE(address, 0u);
        ASSERT_EQ(usable_size(address), kClassSizes[class_index_for(size)]) << "size " << size;
        std::memset(reinterpret_cast<void*>(address), 0x5A, size);
        free(0, address);
    }
    expect_books_balance("after one allocation of every size");
}

TEST_F(HeapTest, EveryClassAllocatesFreesAndReusesItsObjects) {
    for (uint32_t index = 0; index < kClassCount; ++index) {
        uint32_t size = kClassSizes[index];
        uint64_t first = allocate(0, size);
        ASSERT_NE(first, 0u);
        EXPECT_EQ(first % (size & -size), 0u) << size << "-byte object at " << hex(first)
                                              << " is not aligned to its size's power of two";
        EXPECT_TRUE(memory_.owns(first, size)) << hex(first) << " is outside the heap's regions";
        std::memset(reinterpret_cast<void*>(first), 0xC3, size);
        free(0, first);
        // The CPU's magazine hands the object it just got back out first (LIFO).
        uint64_t again = allocate(0, size);
        EXPECT_EQ(again, first) << "class " << size << " did not reuse its freed object";
        free(0, again);
        memory::HeapClassStatistics figures = class_statistics(index);
        EXPECT_EQ(figures.allocations, 2u) << "class " << size;
        EXPECT_EQ(figures.frees, 2u) << "class " << size;
        EXPECT_EQ(figures.live_objects, 0u) << "class " << size;
        EXPECT_EQ(figures.slabs, 1u) << "class " << size;
    }
    expect_books_balance("after every class");
}

TEST_F(HeapTest, SlabsFillUpAcrossCpusWithoutOverlapAndTheirMemoryIsReused) {
    for (uint32_t index = 0; index < kClassCount; ++index) {
        uint32_t size = kClassSizes[index];
        uint32_t count = 3 * class_statistics(index).objects_per_slab + 7;
        std::vector<uint64_t> addresses;
        for (uint32_t object = 0; object < count; ++object) {
            addresses.push_back(allocate(object % 2, size));  // CPUs 0 and 1
            std::memset(reinterpret_cast<void*>(addresses.back()), int(object), size);
        }
        std::vector<uint64_t> sorted = addresses;
        std::sort(sorted.begin(), sorted.end());
        for (size_t at = 1; at < sorted.size(); ++at) {
            ASSERT_GE(sorted[at], sorted[at - 1] + size)
                << "class " << size << ": objects " << hex(sorted[at - 1]) << " and "
                << hex(sorted[at]) << " overlap";
        }
        for (uint32_t object = 0; object < count; ++object) {
            auto* bytes = reinterpret_cast<uint8_t*>(addresses[object]);
            ASSERT_EQ(bytes[0], uint8_t(object)) << "class " << size << " object " << object;
            ASSERT_EQ(bytes[size - 1], uint8_t(object)) << "class " << size << " object " << object;
            free(2, addresses[object]);  // freed on another CPU than it came from
        }
        expect_books_balance("class " + std::to_string(size) + " after the frees");
        // Everything comes back from memory the heap already has (CPU 2's magazines, the
        // depot, and slabs the depot overflowed into): no new region, no object twice.
        uint64_t regions_before = memory_.allocations();
        for (uint32_t object = 0; object < count; ++object) {
            addresses[object] = allocate(2, size);
            std::memset(reinterpret_cast<void*>(addresses[object]), int(object), size);
        }
        EXPECT_EQ(memory_.allocations(), regions_before)
            << "class " << size << ": freed objects were not reused";
        for (uint32_t object = 0; object < count; ++object) {
            auto* bytes = reinterpret_cast<uint8_t*>(addresses[object]);
            ASSERT_EQ(bytes[0], uint8_t(object))
                << "class " << size << ": object " << object << " at " << hex(addresses[object])
                << " was handed out twice";
        }
        for (uint64_t address : addresses) free(3, address);
    }
    expect_books_balance("after all classes");
    reclaim_all(4);
    expect_only_metadata_held("after reclaim");
}

TEST_F(HeapTest, AlignmentIsHonouredForSmallAndLargeRequests) {
    for (uint64_t alignment = 1; alignment <= 65536; alignment *= 2) {
        for (uint64_t size : {1ull, 24ull, 100ull, 1000ull, 3000ull, 5000ull, 70000ull}) {
            uint64_t address = allocate(0, size, alignment);
            ASSERT_NE(address, 0u);
            EXPECT_EQ(address % std::max<uint64_t>(alignment, 16), 0u)
                << "size " << size << " alignment " << alignment << " gave " << hex(address);
            EXPECT_GE(usable_size(address), size) << "size " << size << " alignment " << alignment;
            std::memset(reinterpret_cast<void*>(address), 0x77, size);
            free(0, address);
        }
    }
    uint64_t address = allocate(0, 40, 0);  // 0 means the default, 16
    EXPECT_EQ(address % 16, 0u);
    free(0, address);
    uint64_t ignored = 1;
    EXPECT_EQ(heap_.allocate(0, 64, 48, &ignored).code(), UMKA_KABI_EINVAL)
        << "48 is no power of 2";
    EXPECT_EQ(ignored, 0u) << "a refused allocate leaves address 0";
    EXPECT_EQ(heap_.allocate(0, 0, 16, &ignored).code(), UMKA_KABI_EINVAL) << "size 0";
    expect_books_balance("after the alignment requests");
    EXPECT_EQ(statistics().large_allocations, 0u);
}

TEST_F(HeapTest, LargeAllocationsAreWholePagesOfTheirOwn) {
    uint64_t regions = memory_.live_regions();
    std::vector<std::pair<uint64_t, uint64_t>> allocations;
    for (uint64_t size : {2049ull, 4096ull, 10000ull, 1ull << 20}) {
        uint64_t address = allocate(0, size);
        ASSERT_NE(address, 0u);
        EXPECT_EQ(address % kPage, 0u) << "size " << size;
        EXPECT_EQ(usable_size(address), (size + kPage - 1) / kPage * kPage) << "size " << size;
        std::memset(reinterpret_cast<void*>(address), 0x11, size);
        allocations.emplace_back(address, size);
    }
    memory::HeapStatistics totals = statistics();
    EXPECT_EQ(totals.large_allocations, 4u);
    EXPECT_EQ(totals.large_allocations_total, 4u);
    EXPECT_EQ(totals.large_bytes, 4096u + 4096u + 12288u + (1u << 20));
    EXPECT_GE(memory_.live_regions(), regions + 4);
    // Inside a large allocation, but not its start: refused.
    EXPECT_EQ(heap_.free(0, allocations[3].first + kPage).code(), UMKA_KABI_EINVAL);
    EXPECT_EQ(heap_.free(0, allocations[3].first + 16).code(), UMKA_KABI_EINVAL);
    for (auto [address, size] : allocations) free(1, address);
    totals = statistics();
    EXPECT_EQ(totals.large_allocations, 0u);
    EXPECT_EQ(totals.large_bytes, 0u);
    EXPECT_EQ(totals.large_frees_total, 4u);
    // A freed large allocation is gone: a second free is refused, not a double release.
    EXPECT_EQ(heap_.free(0, allocations[0].first).code(), UMKA_KABI_EINVAL);
    EXPECT_EQ(memory_.bad_requests(), 0u) << "the heap passed the nucleus a bad handle";
    expect_books_balance("after the large allocations");
}

TEST_F(HeapTest, OutOfMemoryIsENOMEMAndLeavesNothingBehind) {
    // Nothing at all: the first call cannot even make its CPU cache or a slab.
    memory_.fail_after(0);
    uint64_t address = 1;
    EXPECT_EQ(heap_.allocate(0, 64, 0, &address).code(), UMKA_KABI_ENOMEM);
    EXPECT_EQ(address, 0u);
    EXPECT_EQ(heap_.allocate(0, 100000, 0, &address).code(), UMKA_KABI_ENOMEM);
    EXPECT_EQ(memory_.live_regions(), 0u) << "a failed allocation left regions behind";
    EXPECT_EQ(statistics().failed_allocations, 2u);
    EXPECT_EQ(class_statistics(class_index_for(64)).failed_allocations, 1u);

    // Every point of failure in turn: the n-th region the heap asks for is refused.
    std::vector<uint64_t> live;
    for (uint64_t allowed = 0; allowed < 40; ++allowed) {
        memory_.fail_after(allowed);
        for (uint64_t size : {16ull, 2048ull, 5000ull, 300ull}) {
            uint64_t got = 0;
            umka::kabi::Status status = heap_.allocate(uint32_t(allowed % 3), size, 0, &got);
            ASSERT_TRUE(status.is_ok() || status.code() == UMKA_KABI_ENOMEM)
                << "allowed " << allowed << " size " << size << ": errno " << status.code();
            if (status.is_ok()) live.push_back(got);
        }
        expect_books_balance("with " + std::to_string(allowed) + " regions allowed");
    }
    memory_.allow_all();
    for (uint64_t got : live) free(0, got);
    // A request larger than anything the nucleus could give never reaches it.
    uint64_t asked = memory_.allocations() + memory_.failures();
    EXPECT_EQ(heap_.allocate(0, 1ull << 60, 0, &address).code(), UMKA_KABI_ENOMEM);
    EXPECT_EQ(heap_.allocate(0, 100, 1ull << 62, &address).code(), UMKA_KABI_ENOMEM);
    EXPECT_EQ(memory_.allocations() + memory_.failures(), asked);
    // A budget the request does not fit in.
    memory_.limit_live_bytes(memory_.live_bytes() + (1u << 20));
    EXPECT_EQ(heap_.allocate(0, 2u << 20, 0, &address).code(), UMKA_KABI_ENOMEM);
    memory_.allow_all();
    reclaim_all(3);
    expect_only_metadata_held("after the out-of-memory rounds");
    EXPECT_EQ(memory_.bad_requests(), 0u);
}

TEST_F(HeapTest, AddressesItNeverHandedOutAreRefusedWithALogLine) {
    uint64_t object = allocate(0, 64);
    int on_stack = 0;
    const uint64_t bad[] = {reinterpret_cast<uint64_t>(&on_stack),
                            object + 16,
                            object + 1,
                            0x8000000000000000ull,
                            0xFFFF800000000000ull,
                            4096};
    for (uint64_t address : bad) {
        harness_.log().clear();
        EXPECT_EQ(heap_.free(0, address).code(), UMKA_KABI_EINVAL) << hex(address);
        EXPECT_THAT(harness_.log().lines(), Contains(HasSubstr("heap: free of " + hex(address) +
                                                               " on CPU 0: not the "
                                                               "start of an allocation")))
            << hex(address);
        uint64_t size = 1;
        EXPECT_EQ(heap_.usable_size(address, &size).code(), UMKA_KABI_EINVAL) << hex(address);
        EXPECT_EQ(size, 0u);
    }
    // A slot of a slab that was never handed out is no allocation either. CPU 9's first
    // 2048-byte allocation fills its magazine with the first 8 of a new slab's 15 objects;
    // taking all 8 shows where the slab starts, and its last object was never handed out.
    uint32_t large_class = class_index_for(2048);
    std::vector<uint64_t> handed_out;
    for (int count = 0; count < 8; ++count) handed_out.push_back(allocate(9, 2048));
    memory::HeapClassStatistics figures = class_statistics(large_class);
    ASSERT_EQ(figures.slabs, 1u);
    ASSERT_EQ(figures.objects_per_slab, 15u);
    ASSERT_EQ(figures.slab_free_objects, 7u);
    uint64_t base = *std::min_element(handed_out.begin(), handed_out.end());
    EXPECT_EQ(heap_.free(9, base + 14 * 2048).code(), UMKA_KABI_EINVAL);
    for (uint64_t address : handed_out) free(9, address);
    EXPECT_TRUE(heap_.free(0, 0).is_ok()) << "free of 0 does nothing, as C's free(NULL)";
    free(0, object);
    expect_books_balance("after the refused frees");
}

TEST_F(HeapTest, ACallFindingItsCpuBusyIsRefusedWithEBUSY) {
    uint64_t object = allocate(3, 128);  // makes CPU 3's cache
    const auto* directory =
        reinterpret_cast<const layout::HeapCpuDirectory*>(state().cpu_directory);
    ASSERT_NE(directory, nullptr);
    ASSERT_GT(directory->capacity, 3u);
    auto* cache = reinterpret_cast<layout::HeapCpuCache*>(
        reinterpret_cast<const uint64_t*>(directory + 1)[3]);
    ASSERT_NE(cache, nullptr);
    EXPECT_EQ(cache->cpu, 3u);
    cache->busy = 1;  // as if an interrupt had landed inside a call of CPU 3
    uint64_t address = 0;
    EXPECT_EQ(heap_.allocate(3, 128, 0, &address).code(), UMKA_KABI_EBUSY);
    EXPECT_EQ(heap_.free(3, object).code(), UMKA_KABI_EBUSY);
    uint64_t released = 0;
    EXPECT_EQ(heap_.reclaim(3, &released).code(), UMKA_KABI_EBUSY);
    EXPECT_THAT(harness_.log().lines(),
                Contains(HasSubstr("heap: allocate on CPU 3 while another call of that CPU is "
                                   "inside the heap (EBUSY)")));
    // Other CPUs are unaffected, and CPU 3 works again once its call is over.
    free(4, allocate(4, 128));
    cache->busy = 0;
    free(3, object);
    expect_books_balance("after the busy CPU");
}

TEST_F(HeapTest, CpuIndicesGrowTheDirectoryAndAnyIndexIsServed) {
    std::vector<std::pair<uint32_t, uint64_t>> objects;
    for (uint32_t cpu : {0u, 1u, 5u, 63u, 64u, 700u, 5000u})
        objects.emplace_back(cpu, allocate(cpu, 96));
    EXPECT_EQ(statistics().cpu_caches, 7u);
    // An index no directory may cover is served through the class locks, correctly.
    uint64_t beyond = allocate(0xFFFFFFFFu, 96);
    EXPECT_EQ(statistics().cpu_caches, 7u);
    free(0xFFFFFFFFu, beyond);
    uint32_t index = class_index_for(96);
    memory::HeapClassStatistics figures = class_statistics(index);
    EXPECT_EQ(figures.allocations, 8u);
    EXPECT_EQ(figures.frees, 1u);
    for (size_t at = 0; at < objects.size(); ++at) {
        free(objects[(at + 1) % objects.size()].first, objects[at].second);  // another CPU
    }
    figures = class_statistics(index);
    EXPECT_EQ(figures.live_objects, 0u);
    expect_books_balance("after CPUs 0 to 5000");
}

TEST_F(HeapTest, ReclaimGivesEveryEmptySlabBackToTheNucleus) {
    std::vector<uint64_t> objects;
    for (uint32_t round = 0; round < 3000; ++round) {
        objects.push_back(allocate(round % 4, kClassSizes[round % kClassCount]));
    }
    uint64_t large = allocate(1, 50000);
    for (size_t at = 0; at < objects.size(); ++at) free(uint32_t((at + 2) % 4), objects[at]);
    EXPECT_GT(statistics().slab_bytes, 0u);
    // Live memory is never reclaimed.
    uint64_t released = reclaim_all(4);
    EXPECT_GT(released, 0u);
    EXPECT_EQ(usable_size(large), 53248u);
    std::memset(reinterpret_cast<void*>(large), 0, 50000);
    free(1, large);
    expect_only_metadata_held("after reclaiming every CPU");
    // The heap goes on after a reclaim.
    free(0, allocate(0, 300));
    expect_books_balance("after allocating again");
}

TEST_F(HeapTest, ARefusedReleaseIsCountedAndLogged) {
    uint64_t large = allocate(0, 8192);
    memory_.refuse_releases(true);
    free(0, large);  // the allocation is gone for the caller either way
    memory_.refuse_releases(false);
    memory::HeapStatistics totals = statistics();
    EXPECT_EQ(totals.release_failures, 1u);
    EXPECT_EQ(totals.large_allocations, 0u);
    EXPECT_THAT(harness_.log().lines(),
                Contains(HasSubstr("heap: ModuleMemory.release of large allocation region 0x")));
}

// The statistics against a model of the calls, over a random single-threaded sequence on
// several CPUs (the threaded version is in heap_property_test.cpp).
TEST_F(HeapTest, StatisticsMatchAModelOfTheCalls) {
    std::mt19937_64 random(20240607);
    struct Model {
        uint64_t allocations = 0;
        uint64_t frees = 0;
    };
    std::map<uint32_t, Model> model;
    std::vector<std::pair<uint64_t, uint32_t>> live;  // address, class
    for (uint32_t step = 0; step < 20000; ++step) {
        uint32_t cpu = uint32_t(random() % 4);
        if (live.empty() || random() % 100 < 55) {
            uint64_t size = 1 + random() % kLargestClass;
            uint64_t address = allocate(cpu, size);
            ASSERT_NE(address, 0u);
            live.emplace_back(address, class_index_for(size));
            model[class_index_for(size)].allocations += 1;
        } else {
            size_t victim = random() % live.size();
            free(cpu, live[victim].first);
            model[live[victim].second].frees += 1;
            live[victim] = live.back();
            live.pop_back();
        }
    }
    for (uint32_t index = 0; index < kClassCount; ++index) {
        memory::HeapClassStatistics figures = class_statistics(index);
        EXPECT_EQ(figures.allocations, model[index].allocations) << "class " << index;
        EXPECT_EQ(figures.frees, model[index].frees) << "class " << index;
    }
    expect_books_balance("after the model run");
    for (auto [address, index] : live) free(0, address);
    reclaim_all(4);
    expect_only_metadata_held("after freeing the model's allocations");
}

}  // namespace
}  // namespace umka::heap_test
