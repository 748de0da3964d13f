// Property tests for the buddy frame allocator: randomised allocate/free sequences checked
// against a model (a set of owned frames).
#include "nucleus/mm/frame_allocator.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <vector>

namespace umka {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

class FrameAllocatorTest : public ::testing::Test {
protected:
    // Manages [1 MiB, 1 MiB + frames*4K).
    void set_up(uint64_t frames) {
        records_.assign(frames, FrameRecord{});
        ASSERT_TRUE(allocator_.initialize(records_.data(), kMiB / kFrameSize, frames).is_ok());
    }

    std::vector<FrameRecord> records_;
    FrameAllocator allocator_;
};

TEST_F(FrameAllocatorTest, FreshRangeCoalescesIntoMaximalBlocks) {
    set_up(4096);  // 16 MiB starting at 1 MiB: 1 MiB is 256-frame aligned, not 1024
    ASSERT_TRUE(allocator_.add_free_range(kMiB, 4096 * kFrameSize).is_ok());
    FrameAllocatorStatistics statistics = allocator_.statistics();
    EXPECT_EQ(statistics.free_frames, 4096u);
    EXPECT_EQ(statistics.total_frames, 4096u);
    // 1 MiB..4 MiB: order 8 at 1 MiB, order 9 at 2 MiB; 4..16 MiB: three order-10 blocks;
    // 16..17 MiB: order 8.
    EXPECT_EQ(statistics.free_blocks_by_order[10], 3u);
    EXPECT_EQ(statistics.free_blocks_by_order[9], 1u);
    EXPECT_EQ(statistics.free_blocks_by_order[8], 2u);
}

TEST_F(FrameAllocatorTest, AllocationsAreNaturallyAlignedAndInsideFreeRam) {
    set_up(2048);
    ASSERT_TRUE(allocator_.add_free_range(kMiB + 3 * kFrameSize, 1000 * kFrameSize).is_ok());
    for (unsigned order = 0; order <= 5; ++order) {
        Result<uint64_t> block = allocator_.allocate(order);
        ASSERT_TRUE(block.is_ok()) << "order " << order;
        EXPECT_EQ(block.value() % (kFrameSize << order), 0u);
        EXPECT_GE(block.value(), kMiB + 3 * kFrameSize);
        EXPECT_LE(block.value() + (kFrameSize << order), kMiB + 1003 * kFrameSize);
    }
}

TEST_F(FrameAllocatorTest, ExhaustionReturnsEnomemAndFreeingRestoresEverything) {
    set_up(512);
    ASSERT_TRUE(allocator_.add_free_range(kMiB, 512 * kFrameSize).is_ok());
    std::vector<uint64_t> frames;
    for (;;) {
        Result<uint64_t> frame = allocator_.allocate(0);
        if (frame.is_error()) {
            EXPECT_EQ(frame.error(), Errno::OutOfMemory);
            break;
        }
        frames.push_back(frame.value());
    }
    EXPECT_EQ(frames.size(), 512u);
    std::set<uint64_t> unique(frames.begin(), frames.end());
    EXPECT_EQ(unique.size(), frames.size());
    for (uint64_t frame : frames) ASSERT_TRUE(allocator_.free(frame).is_ok());
    FrameAllocatorStatistics statistics = allocator_.statistics();
    EXPECT_EQ(statistics.free_frames, 512u);
    // Everything merged back: 1 MiB..3 MiB is one order-8 (1 MiB) + one order-8 block,
    // since 1 MiB is only 256-frame aligned.
    EXPECT_EQ(statistics.free_blocks_by_order[8], 2u);
    EXPECT_EQ(statistics.free_blocks_by_order[0], 0u);
}

TEST_F(FrameAllocatorTest, DoubleFreeAndForeignAddressesAreRefused) {
    set_up(64);
    ASSERT_TRUE(allocator_.add_free_range(kMiB, 64 * kFrameSize).is_ok());
    uint64_t frame = allocator_.allocate(0).value();
    ASSERT_TRUE(allocator_.free(frame).is_ok());
    EXPECT_EQ(allocator_.free(frame).error(), Errno::InvalidArgument);
    EXPECT_EQ(allocator_.free(frame + 1).error(), Errno::InvalidArgument);
    EXPECT_EQ(allocator_.free(0).error(), Errno::InvalidArgument);
    EXPECT_EQ(allocator_.free(kMiB + 1000 * kFrameSize).error(), Errno::InvalidArgument);
    // A frame inside an allocated block is not a block of its own, even if it once was.
    uint64_t single = allocator_.allocate(0).value();
    ASSERT_TRUE(allocator_.free(single).is_ok());
    uint64_t block = allocator_.allocate(2).value();
    for (uint64_t offset = 1; offset < 4; ++offset) {
        EXPECT_EQ(allocator_.free(block + offset * kFrameSize).error(), Errno::InvalidArgument);
    }
    EXPECT_TRUE(allocator_.free(block).is_ok());
}

TEST_F(FrameAllocatorTest, AddingAnOverlappingRangeIsRefused) {
    set_up(64);
    ASSERT_TRUE(allocator_.add_free_range(kMiB, 16 * kFrameSize).is_ok());
    EXPECT_EQ(allocator_.add_free_range(kMiB + 8 * kFrameSize, 16 * kFrameSize).error(),
              Errno::InvalidArgument);
}

TEST_F(FrameAllocatorTest, HolesAreNeverHandedOut) {
    set_up(1024);
    // Two islands with a hole between them.
    ASSERT_TRUE(allocator_.add_free_range(kMiB, 100 * kFrameSize).is_ok());
    ASSERT_TRUE(allocator_.add_free_range(kMiB + 300 * kFrameSize, 100 * kFrameSize).is_ok());
    std::set<uint64_t> seen;
    while (true) {
        Result<uint64_t> frame = allocator_.allocate(0);
        if (frame.is_error()) break;
        uint64_t index = (frame.value() - kMiB) / kFrameSize;
        EXPECT_TRUE(index < 100 || (index >= 300 && index < 400)) << index;
        EXPECT_TRUE(seen.insert(frame.value()).second);
    }
    EXPECT_EQ(seen.size(), 200u);
}

TEST_F(FrameAllocatorTest, AllocateBelowHonoursTheLimit) {
    set_up(1024);
    ASSERT_TRUE(allocator_.add_free_range(kMiB, 1024 * kFrameSize).is_ok());
    uint64_t limit = kMiB + 16 * kFrameSize;
    for (int count = 0; count < 16; ++count) {
        Result<uint64_t> frame = allocator_.allocate_below(limit);
        ASSERT_TRUE(frame.is_ok());
        EXPECT_LE(frame.value() + kFrameSize, limit);
    }
    EXPECT_EQ(allocator_.allocate_below(limit).error(), Errno::OutOfMemory);
}

// The main property test: random interleavings of allocations of random orders and frees
// of random live blocks, checked against a model after every step.
TEST_F(FrameAllocatorTest, RandomisedSequencesKeepEveryInvariant) {
    for (uint32_t seed = 1; seed <= 20; ++seed) {
        constexpr uint64_t kFrames = 3000;
        set_up(kFrames);
        std::mt19937 random(seed);
        // Random islands of RAM.
        std::set<uint64_t> ram;
        for (uint64_t frame = 0; frame < kFrames;) {
            uint64_t length = 1 + random() % 300;
            if (random() % 3 != 0) {
                uint64_t end = std::min(kFrames, frame + length);
                ASSERT_TRUE(
                    allocator_.add_free_range(kMiB + frame * kFrameSize, (end - frame) * kFrameSize)
                        .is_ok());
                for (uint64_t index = frame; index < end; ++index) ram.insert(index);
            }
            frame += length + random() % 50;
        }
        ASSERT_EQ(allocator_.statistics().free_frames, ram.size());

        std::map<uint64_t, unsigned> live;  // address -> order
        std::set<uint64_t> owned;           // frames inside live blocks
        for (int step = 0; step < 4000; ++step) {
            if (live.empty() || random() % 100 < 55) {
                unsigned order = random() % 4 == 0 ? random() % 6 : 0;
                Result<uint64_t> block = allocator_.allocate(order);
                if (block.is_error()) continue;
                ASSERT_EQ(block.value() % (kFrameSize << order), 0u);
                for (uint64_t offset = 0; offset < (1u << order); ++offset) {
                    uint64_t index = (block.value() - kMiB) / kFrameSize + offset;
                    ASSERT_TRUE(ram.count(index)) << "handed out a frame that is not RAM";
                    ASSERT_TRUE(owned.insert(index).second) << "double allocation, seed " << seed;
                }
                live[block.value()] = order;
            } else {
                auto victim = live.begin();
                std::advance(victim, random() % live.size());
                ASSERT_TRUE(allocator_.free(victim->first).is_ok());
                for (uint64_t offset = 0; offset < (1u << victim->second); ++offset) {
                    owned.erase((victim->first - kMiB) / kFrameSize + offset);
                }
                live.erase(victim);
            }
            ASSERT_EQ(allocator_.statistics().free_frames, ram.size() - owned.size());
        }
        // Free everything: the allocator must return to exactly its initial block layout.
        for (auto& [address, order] : live) ASSERT_TRUE(allocator_.free(address).is_ok());
        FrameAllocatorStatistics after = allocator_.statistics();
        EXPECT_EQ(after.free_frames, ram.size());
        FrameAllocator fresh;
        std::vector<FrameRecord> fresh_records(kFrames);
        ASSERT_TRUE(fresh.initialize(fresh_records.data(), kMiB / kFrameSize, kFrames).is_ok());
        for (uint64_t index : ram) {
            ASSERT_TRUE(fresh.add_free_range(kMiB + index * kFrameSize, kFrameSize).is_ok());
        }
        FrameAllocatorStatistics expected = fresh.statistics();
        for (unsigned order = 0; order <= FrameAllocator::kMaxOrder; ++order) {
            EXPECT_EQ(after.free_blocks_by_order[order], expected.free_blocks_by_order[order])
                << "coalescing incomplete at order " << order << ", seed " << seed;
        }
        // Everything freed is reusable.
        uint64_t reallocated = 0;
        while (allocator_.allocate(0).is_ok()) ++reallocated;
        EXPECT_EQ(reallocated, ram.size());
    }
}

}  // namespace
}  // namespace umka
