// The nucleus's physical memory: the frame allocator behind a lock, set up from the
// normalised memory map. Frames below 1 MiB are never handed out (firmware and the SMP
// start-up page live there).
#pragma once

#include <stdint.h>

#include "nucleus/boot/memory_map.h"
#include "nucleus/lib/spinlock.h"
#include "nucleus/lib/status.h"
#include "nucleus/mm/frame_allocator.h"

namespace umka {

struct PhysicalMemorySetup {
    uint64_t metadata_physical;
    uint64_t metadata_bytes;
    uint64_t managed_frames;
};

class PhysicalMemory {
public:
    static constexpr uint64_t kLowestManagedAddress = 0x100000;

    // `to_virtual` translates a physical address during boot (identity map).
    Result<PhysicalMemorySetup> initialize(const MemoryMap& memory_map,
                                           void* (*to_virtual)(uint64_t physical));

    Result<uint64_t> allocate(unsigned order = 0);
    Result<uint64_t> allocate_below(uint64_t limit, unsigned order = 0);
    Status free(uint64_t physical);
    FrameAllocatorStatistics statistics();
    void relocate_metadata(void* (*to_virtual)(uint64_t physical));

private:
    // Lock order: a leaf lock; the address-space lock may be held when taking it.
    SpinLock lock_{LockLevel::PhysicalMemory};
    FrameAllocator allocator_;
    uint64_t metadata_physical_ = 0;
};

PhysicalMemory& physical_memory();

}  // namespace umka
