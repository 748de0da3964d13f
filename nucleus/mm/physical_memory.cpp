#include "nucleus/mm/physical_memory.h"

namespace umka {
namespace {
constinit PhysicalMemory instance;
constexpr uint64_t kMetadataLimit = 4ull << 30;  // reachable through the boot identity map
}  // namespace

PhysicalMemory& physical_memory() {
    return instance;
}

Result<PhysicalMemorySetup> PhysicalMemory::initialize(const MemoryMap& memory_map,
                                                       void* (*to_virtual)(uint64_t)) {
    uint64_t first_frame = kLowestManagedAddress >> kFrameShift;
    uint64_t end_frame = memory_map.highest_end(MemoryRegionKind::Usable) >> kFrameShift;
    if (end_frame <= first_frame) return Errno::OutOfMemory;
    uint64_t frame_count = end_frame - first_frame;
    uint64_t metadata_bytes =
        (FrameAllocator::metadata_bytes(frame_count) + kFrameSize - 1) & ~(kFrameSize - 1);

    // First fit for the metadata in usable RAM above 1 MiB and below the identity limit.
    uint64_t metadata = 0;
    for (const MemoryRegion& region : memory_map) {
        if (region.kind != MemoryRegionKind::Usable) continue;
        uint64_t start = (region.base + kFrameSize - 1) & ~(kFrameSize - 1);
        if (start < kLowestManagedAddress) start = kLowestManagedAddress;
        uint64_t end = region.end() & ~(kFrameSize - 1);
        if (end > kMetadataLimit) end = kMetadataLimit;
        if (start < end && end - start >= metadata_bytes) {
            metadata = start;
            break;
        }
    }
    if (metadata == 0) return Errno::OutOfMemory;

    TRY(allocator_.initialize(static_cast<FrameRecord*>(to_virtual(metadata)), first_frame,
                              frame_count));
    for (const MemoryRegion& region : memory_map) {
        if (region.kind != MemoryRegionKind::Usable) continue;
        uint64_t start = region.base;
        uint64_t end = region.end();
        // Carve the metadata out of the region that holds it.
        if (metadata >= start && metadata < end) {
            TRY(allocator_.add_free_range(start, metadata - start));
            start = metadata + metadata_bytes;
        }
        if (start < end) TRY(allocator_.add_free_range(start, end - start));
    }
    metadata_physical_ = metadata;
    return PhysicalMemorySetup{metadata, metadata_bytes, frame_count};
}

void PhysicalMemory::relocate_metadata(void* (*to_virtual)(uint64_t)) {
    SpinLockGuard guard(lock_);
    allocator_.relocate_metadata(static_cast<FrameRecord*>(to_virtual(metadata_physical_)));
}

Result<uint64_t> PhysicalMemory::allocate(unsigned order) {
    SpinLockGuard guard(lock_);
    return allocator_.allocate(order);
}

Result<uint64_t> PhysicalMemory::allocate_below(uint64_t limit, unsigned order) {
    SpinLockGuard guard(lock_);
    return allocator_.allocate_below(limit, order);
}

Status PhysicalMemory::free(uint64_t physical) {
    SpinLockGuard guard(lock_);
    return allocator_.free(physical);
}

FrameAllocatorStatistics PhysicalMemory::statistics() {
    SpinLockGuard guard(lock_);
    return allocator_.statistics();
}

}  // namespace umka
