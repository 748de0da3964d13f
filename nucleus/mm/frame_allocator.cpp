#include "nucleus/mm/frame_allocator.h"

namespace umka {

Status FrameAllocator::initialize(FrameRecord* records, uint64_t first_frame,
                                  uint64_t frame_count) {
    if (records == nullptr || frame_count == 0 || frame_count >= kNone)
        return Errno::InvalidArgument;
    records_ = records;
    first_frame_ = first_frame;
    frame_count_ = frame_count;
    total_frames_ = 0;
    free_frames_ = 0;
    for (unsigned order = 0; order <= kMaxOrder; ++order) {
        free_heads_[order] = kNone;
        free_block_counts_[order] = 0;
    }
    // All Unavailable (0) with order 0; links are read only on free-list heads, which
    // push_free sets. One bulk clear: boot pays for every frame of RAM here.
    static_assert(FrameState::Unavailable == FrameState{0});
    __builtin_memset(static_cast<void*>(records_), 0, frame_count * sizeof(FrameRecord));
    return Status::ok();
}

void FrameAllocator::push_free(uint32_t index, unsigned order) {
    FrameRecord& record = records_[index];
    record.state = FrameState::FreeHead;
    record.order = static_cast<uint8_t>(order);
    record.prev = kNone;
    record.next = free_heads_[order];
    if (record.next != kNone) records_[record.next].prev = index;
    free_heads_[order] = index;
    ++free_block_counts_[order];
}

void FrameAllocator::remove_free(uint32_t index, unsigned order) {
    FrameRecord& record = records_[index];
    if (record.prev != kNone) {
        records_[record.prev].next = record.next;
    } else {
        free_heads_[order] = record.next;
    }
    if (record.next != kNone) records_[record.next].prev = record.prev;
    record.next = record.prev = kNone;
    --free_block_counts_[order];
}

// Frees a block and merges it with its buddy while the buddy is a free block of the same
// order. Buddies are computed on absolute frame numbers so alignment survives any base.
// Of each merged pair the higher head becomes Interior, so heads stay exact in O(1).
void FrameAllocator::free_block(uint32_t index, unsigned order) {
    uint64_t frame = first_frame_ + index;
    while (order < kMaxOrder) {
        uint64_t buddy_frame = frame ^ (1ull << order);
        if (buddy_frame < first_frame_ || buddy_frame >= first_frame_ + frame_count_) break;
        uint32_t buddy = static_cast<uint32_t>(buddy_frame - first_frame_);
        if (records_[buddy].state != FrameState::FreeHead || records_[buddy].order != order) {
            break;
        }
        remove_free(buddy, order);
        uint64_t higher = buddy_frame > frame ? buddy_frame : frame;
        records_[higher - first_frame_].state = FrameState::Interior;
        frame &= ~(1ull << order);
        ++order;
    }
    push_free(static_cast<uint32_t>(frame - first_frame_), order);
}

Status FrameAllocator::add_free_range(uint64_t physical_base, uint64_t length) {
    uint64_t first = (physical_base + kFrameSize - 1) >> kFrameShift;
    uint64_t end = (physical_base + length) >> kFrameShift;
    if (first < first_frame_) first = first_frame_;
    if (end > first_frame_ + frame_count_) end = first_frame_ + frame_count_;
    // One pass checks that no frame is managed yet and marks each Interior (block heads
    // become FreeHead below); a managed frame undoes the marks made so far.
    for (uint64_t frame = first; frame < end; ++frame) {
        FrameRecord& record = records_[frame - first_frame_];
        if (record.state != FrameState::Unavailable) {
            for (uint64_t marked = first; marked < frame; ++marked) {
                records_[marked - first_frame_].state = FrameState::Unavailable;
            }
            return Errno::InvalidArgument;
        }
        record.state = FrameState::Interior;
    }
    // Insert maximal naturally aligned blocks; free_block merges with neighbours.
    uint64_t frame = first;
    while (frame < end) {
        unsigned order = 0;
        while (order < kMaxOrder && (frame & ((2ull << order) - 1)) == 0 &&
               frame + (2ull << order) <= end) {
            ++order;
        }
        uint32_t index = static_cast<uint32_t>(frame - first_frame_);
        free_block(index, order);
        total_frames_ += 1ull << order;
        free_frames_ += 1ull << order;
        frame += 1ull << order;
    }
    return Status::ok();
}

Result<uint64_t> FrameAllocator::allocate(unsigned order) {
    return allocate_below(~0ull, order);
}

Result<uint64_t> FrameAllocator::allocate_below(uint64_t limit, unsigned order) {
    if (order > kMaxOrder) return Errno::InvalidArgument;
    for (unsigned candidate = order; candidate <= kMaxOrder; ++candidate) {
        uint32_t index = free_heads_[candidate];
        // Splitting keeps the lowest part, so a larger block fits if its first 2^order
        // frames end below the limit. Without a limit the head always fits: O(1) per order.
        while (index != kNone &&
               ((first_frame_ + index + (1ull << order)) << kFrameShift) > limit) {
            index = records_[index].next;
        }
        if (index == kNone) continue;
        remove_free(index, candidate);
        // Split: keep the lower half, return upper halves to the lists below.
        while (candidate > order) {
            --candidate;
            push_free(index + (1u << candidate), candidate);
        }
        records_[index].state = FrameState::Allocated;
        records_[index].order = static_cast<uint8_t>(order);
        free_frames_ -= 1ull << order;
        return (first_frame_ + index) << kFrameShift;
    }
    return Errno::OutOfMemory;
}

Status FrameAllocator::free(uint64_t physical_address) {
    if ((physical_address & (kFrameSize - 1)) != 0) return Errno::InvalidArgument;
    uint64_t frame = physical_address >> kFrameShift;
    if (frame < first_frame_ || frame >= first_frame_ + frame_count_) return Errno::InvalidArgument;
    uint32_t index = static_cast<uint32_t>(frame - first_frame_);
    if (records_[index].state != FrameState::Allocated) return Errno::InvalidArgument;
    unsigned order = records_[index].order;
    free_frames_ += 1ull << order;
    free_block(index, order);
    return Status::ok();
}

FrameState FrameAllocator::state_of(uint64_t physical_address) const {
    uint64_t frame = physical_address >> kFrameShift;
    if (frame < first_frame_ || frame >= first_frame_ + frame_count_) {
        return FrameState::Unavailable;
    }
    return records_[frame - first_frame_].state;
}

FrameAllocatorStatistics FrameAllocator::statistics() const {
    FrameAllocatorStatistics statistics{};
    statistics.total_frames = total_frames_;
    statistics.free_frames = free_frames_;
    for (unsigned order = 0; order <= kMaxOrder; ++order) {
        statistics.free_blocks_by_order[order] = free_block_counts_[order];
    }
    return statistics;
}

}  // namespace umka
