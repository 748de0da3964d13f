// Physical frame allocator: a binary buddy allocator over 4 KiB frames.
//
// Invariants (checked by the host property tests in test/host/frame_allocator_test.cpp):
//  * every frame is in exactly one of: a free block (on the free list of its order),
//    an allocated block, or the never-available set (holes, reserved memory);
//  * a free block of order k starts at a frame number that is a multiple of 2^k and all of
//    its 2^k frames are available RAM;
//  * two free buddies of the same order never coexist: freeing merges them.
// Allocation and free are O(log n) in the number of orders (at most kMaxOrder+1 steps);
// free-list insert and remove are O(1) through intrusive doubly-linked indices kept in the
// per-frame metadata. The metadata array is nucleus-owned memory handed in by the caller.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"

namespace umka {

inline constexpr uint64_t kFrameSize = 4096;
inline constexpr unsigned kFrameShift = 12;

// Only the first frame of a block carries its state and order; the frames inside a block
// are Interior. Keeping it that way costs O(1) per split or merge, which is what makes
// allocate and free O(kMaxOrder) rather than O(block size).
enum class FrameState : uint8_t {
    Unavailable = 0,  // not RAM we own: hole, reserved, firmware, nucleus image
    FreeHead = 1,     // first frame of a free block
    Allocated = 2,    // first frame of an allocated block
    Interior = 3,     // any other frame of a free or allocated block
};

struct FrameRecord {
    uint32_t next;  // free-list links (frame numbers relative to the allocator's base)
    uint32_t prev;
    FrameState state;
    uint8_t order;
    uint16_t reserved;
};
static_assert(sizeof(FrameRecord) == 12);

struct FrameAllocatorStatistics {
    uint64_t total_frames;  // frames that were ever handed to add_free_range
    uint64_t free_frames;
    uint64_t free_blocks_by_order[16];
};

class FrameAllocator {
public:
    static constexpr unsigned kMaxOrder = 10;  // 4 MiB blocks
    static constexpr uint32_t kNone = 0xffffffffu;

    // Bytes of metadata needed to manage `frame_count` frames.
    static constexpr size_t metadata_bytes(uint64_t frame_count) {
        return static_cast<size_t>(frame_count) * sizeof(FrameRecord);
    }

    // Manages frames [first_frame, first_frame + frame_count). All start Unavailable.
    // `records` must hold frame_count entries. frame_count must be < 2^32 - 1.
    Status initialize(FrameRecord* records, uint64_t first_frame, uint64_t frame_count);

    // Marks a physical range as free RAM (page-aligned inward). Ranges outside the managed
    // window are clipped. Returns EINVAL if any frame in it was already free or allocated.
    Status add_free_range(uint64_t physical_base, uint64_t length);

    // Allocates 2^order contiguous, naturally aligned frames; returns the physical address.
    Result<uint64_t> allocate(unsigned order = 0);
    // Allocates one block whose end is at or below `limit` (for firmware that needs low
    // memory, such as 32-bit page-table roots).
    Result<uint64_t> allocate_below(uint64_t limit, unsigned order = 0);

    // Frees a block returned by allocate(). EINVAL names a double free or a bad address.
    Status free(uint64_t physical_address);

    // The metadata moved (e.g. from the identity map to the direct map).
    void relocate_metadata(FrameRecord* records) { records_ = records; }

    FrameAllocatorStatistics statistics() const;
    uint64_t first_frame() const { return first_frame_; }
    uint64_t frame_count() const { return frame_count_; }
    FrameState state_of(uint64_t physical_address) const;

private:
    void push_free(uint32_t index, unsigned order);
    void remove_free(uint32_t index, unsigned order);
    void free_block(uint32_t index, unsigned order);

    FrameRecord* records_ = nullptr;
    uint64_t first_frame_ = 0;
    uint64_t frame_count_ = 0;
    uint64_t total_frames_ = 0;
    uint64_t free_frames_ = 0;
    uint32_t free_heads_[kMaxOrder + 1] = {};
    uint64_t free_block_counts_[kMaxOrder + 1] = {};
};

}  // namespace umka
