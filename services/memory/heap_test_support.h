// What the kernel heap's host tests share: a fixture that loads the real kernel_heap.elf
// through the module harness against HostModuleMemory, and checks of the heap's books.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "host_module_memory.h"
#include "module_harness.h"
#include "umka/kabi/memory.hpp"
#include "umka/kabi/memory_service.hpp"
#include "umka/kabi/memory_service_state.hpp"

namespace umka::heap_test {

namespace memory = umka::kabi::memory;
namespace layout = umka::kabi::memory_service;
using HeapState = layout::HeapState;
using umka::harness::HostModule;
using umka::harness::LoadOptions;
using umka::harness::ModuleHarness;

// The class sizes the interface documents, written out independently of the module.
inline constexpr uint32_t kClassSizes[] = {16,  32,  48,  64,   80,   96,   112,  128,
                                           160, 192, 224, 256,  320,  384,  448,  512,
                                           640, 768, 896, 1024, 1280, 1536, 1792, 2048};
inline constexpr uint32_t kClassCount = sizeof(kClassSizes) / sizeof(kClassSizes[0]);
inline constexpr uint64_t kLargestClass = 2048;
inline constexpr uint64_t kPage = 4096;

// Index of the smallest class holding `size` (1..2048).
inline uint32_t class_index_for(uint64_t size) {
    for (uint32_t index = 0; index < kClassCount; ++index) {
        if (kClassSizes[index] >= size) return index;
    }
    return kClassCount;
}

inline std::string hex(uint64_t value) {
    char text[24];
    snprintf(text, sizeof(text), "0x%llx", static_cast<unsigned long long>(value));
    return text;
}

class HeapTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(
            harness_.provide("kernel_services", "ModuleMemory", memory_.vtable(), &memory_).is_ok())
            << harness_.last_reason();
        ASSERT_NO_FATAL_FAILURE(load());
    }

    void load(const LoadOptions& options = {}) {
        module_ = harness_.load(umka::harness::module_under_test(), options);
        ASSERT_NE(module_, nullptr) << harness_.last_reason();
        if (options.publication == umka::modules::Publication::Publish) {
            ASSERT_TRUE(harness_.bind_provided(*module_, "memory", "Heap", &heap_).is_ok());
        }
    }

    HeapState& state() { return *static_cast<HeapState*>(module_->states[0].base); }

    // allocate that must succeed; 0 (after a test failure naming the call) otherwise.
    uint64_t allocate(uint32_t cpu, uint64_t size, uint64_t alignment = 0) {
        uint64_t address = 0;
        umka::kabi::Status status = heap_.allocate(cpu, size, alignment, &address);
        EXPECT_TRUE(status.is_ok()) << "allocate(cpu " << cpu << ", size " << size << ", alignment "
                                    << alignment << ") failed with errno " << status.code();
        return address;
    }

    void free(uint32_t cpu, uint64_t address) {
        umka::kabi::Status status = heap_.free(cpu, address);
        EXPECT_TRUE(status.is_ok()) << "free(cpu " << cpu << ", " << hex(address)
                                    << ") failed with errno " << status.code();
    }

    uint64_t usable_size(uint64_t address) {
        uint64_t size = 0;
        umka::kabi::Status status = heap_.usable_size(address, &size);
        EXPECT_TRUE(status.is_ok())
            << "usable_size(" << hex(address) << ") failed with errno " << status.code();
        return size;
    }

    memory::HeapClassStatistics class_statistics(uint32_t index) {
        memory::HeapClassStatistics statistics{};
        EXPECT_TRUE(heap_.class_statistics(index, &statistics).is_ok()) << "class " << index;
        return statistics;
    }

    memory::HeapStatistics statistics() {
        memory::HeapStatistics statistics{};
        EXPECT_TRUE(heap_.statistics(&statistics).is_ok());
        return statistics;
    }

    // The heap's books balance: every object of every slab is live, cached or free in its
    // slab; the regions the heap counts are exactly those the nucleus has handed it.
    void expect_books_balance(const std::string& when) {
        for (uint32_t index = 0; index < kClassCount; ++index) {
            memory::HeapClassStatistics figures = class_statistics(index);
            EXPECT_EQ(figures.slabs * figures.objects_per_slab,
                      figures.live_objects + figures.cached_objects + figures.slab_free_objects)
                << when << ": class " << index << " (" << kClassSizes[index]
                << " bytes): " << figures.slabs << " slabs of " << figures.objects_per_slab
                << " objects, " << figures.live_objects << " live, " << figures.cached_objects
                << " cached, " << figures.slab_free_objects << " free in slabs";
            EXPECT_EQ(figures.live_objects, figures.allocations - figures.frees) << when;
        }
        EXPECT_EQ(statistics().regions, memory_.live_regions())
            << when << ": the heap's region count differs from the regions it holds";
    }

    // Every class drained and every empty slab given back, by calls on CPUs 0..cpu_count-1.
    uint64_t reclaim_all(uint32_t cpu_count) {
        uint64_t released_total = 0;
        for (uint32_t cpu = 0; cpu < cpu_count; ++cpu) {
            uint64_t released = 0;
            EXPECT_TRUE(heap_.reclaim(cpu, &released).is_ok()) << "reclaim on CPU " << cpu;
            released_total += released;
        }
        return released_total;
    }

    // With nothing live and every CPU reclaimed, the heap holds only its bookkeeping (page
    // map nodes, CPU caches and directories, metadata pool regions): no slab, no large
    // region, and the bytes the nucleus has handed it are exactly its metadata bytes.
    void expect_only_metadata_held(const std::string& when) {
        for (uint32_t index = 0; index < kClassCount; ++index) {
            memory::HeapClassStatistics figures = class_statistics(index);
            EXPECT_EQ(figures.live_objects, 0u) << when << ": class " << index;
            EXPECT_EQ(figures.slabs, 0u) << when << ": class " << index << " kept slabs";
            EXPECT_EQ(figures.cached_objects, 0u) << when << ": class " << index;
        }
        memory::HeapStatistics totals = statistics();
        EXPECT_EQ(totals.large_allocations, 0u) << when;
        EXPECT_EQ(totals.large_bytes, 0u) << when;
        EXPECT_EQ(totals.slab_bytes, 0u) << when;
        EXPECT_EQ(totals.regions, memory_.live_regions()) << when;
        EXPECT_EQ(totals.metadata_bytes, memory_.live_bytes())
            << when << ": the nucleus holds bytes for the heap beyond its metadata";
    }

    HostModuleMemory memory_;
    ModuleHarness harness_;
    HostModule* module_ = nullptr;
    memory::HeapRef heap_;
};

}  // namespace umka::heap_test
