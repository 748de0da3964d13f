// Turns the firmware's memory map (unsorted, possibly overlapping, with holes) into a
// sorted list of disjoint regions. Where entries overlap, the more restrictive kind wins
// (Bad > Reserved > Bundle > Nucleus > AcpiNvs > AcpiReclaimable > Usable), so a byte is
// only ever free RAM if nothing else claims it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/boot/boot_info.h"

namespace umka {

struct MemoryMapReport {
    uint32_t overlaps = 0;  // places where two entries of different kinds overlap
    uint64_t first_overlap_base = 0;
    MemoryRegionKind first_overlap_winner = MemoryRegionKind::Usable;
    MemoryRegionKind first_overlap_loser = MemoryRegionKind::Usable;
    uint32_t holes = 0;          // gaps between described regions
    uint32_t empty_entries = 0;  // zero-length or wrapping entries ignored
    bool truncated = false;      // the result did not fit
};

class MemoryMap {
public:
    static constexpr size_t kCapacity = 2 * kBootMemoryRegionCapacity + 16;

    // Builds the normalised map from raw entries plus extra claims (nucleus image, bundle).
    MemoryMapReport build(const MemoryRegion* entries, size_t entry_count);

    size_t count() const { return count_; }
    const MemoryRegion& operator[](size_t index) const { return regions_[index]; }
    const MemoryRegion* begin() const { return regions_; }
    const MemoryRegion* end() const { return regions_ + count_; }

    uint64_t total_bytes(MemoryRegionKind kind) const;
    // End of the highest region of the given kind (0 if none).
    uint64_t highest_end(MemoryRegionKind kind) const;
    // Kind of the region containing `address`; Reserved if none does.
    MemoryRegionKind kind_at(uint64_t address) const;

private:
    MemoryRegion regions_[kCapacity];
    size_t count_ = 0;
};

}  // namespace umka
