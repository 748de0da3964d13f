#include "nucleus/boot/memory_map.h"

namespace umka {
namespace {

int priority(MemoryRegionKind kind) {
    switch (kind) {
    case MemoryRegionKind::Usable:
        return 0;
    case MemoryRegionKind::AcpiReclaimable:
        return 1;
    case MemoryRegionKind::AcpiNvs:
        return 2;
    case MemoryRegionKind::Nucleus:
        return 3;
    case MemoryRegionKind::Bundle:
        return 4;
    case MemoryRegionKind::Reserved:
        return 5;
    case MemoryRegionKind::Bad:
        return 6;
    }
    return 5;
}

// The nucleus image and the bundle are claims on RAM, not firmware disagreements.
bool is_claim_on_ram(MemoryRegionKind first, MemoryRegionKind second) {
    auto is_claim = [](MemoryRegionKind kind) {
        return kind == MemoryRegionKind::Nucleus || kind == MemoryRegionKind::Bundle;
    };
    return (is_claim(first) && second == MemoryRegionKind::Usable) ||
           (is_claim(second) && first == MemoryRegionKind::Usable);
}

template <typename T>
void insertion_sort(T* items, size_t count) {
    for (size_t index = 1; index < count; ++index) {
        T item = items[index];
        size_t position = index;
        while (position > 0 && item < items[position - 1]) {
            items[position] = items[position - 1];
            --position;
        }
        items[position] = item;
    }
}

}  // namespace

const char* memory_region_kind_name(MemoryRegionKind kind) {
    switch (kind) {
    case MemoryRegionKind::Usable:
        return "usable";
    case MemoryRegionKind::Reserved:
        return "reserved";
    case MemoryRegionKind::AcpiReclaimable:
        return "acpi-reclaimable";
    case MemoryRegionKind::AcpiNvs:
        return "acpi-nvs";
    case MemoryRegionKind::Bad:
        return "bad";
    case MemoryRegionKind::Nucleus:
        return "nucleus";
    case MemoryRegionKind::Bundle:
        return "bundle";
    }
    return "unknown";
}

MemoryMapReport MemoryMap::build(const MemoryRegion* entries, size_t entry_count) {
    MemoryMapReport report;
    count_ = 0;

    // Sweep over every boundary; each elementary interval takes the strongest kind that
    // covers it. n is a few hundred at most, so O(n^2) is cheaper than any bookkeeping.
    static constexpr size_t kBoundaryCapacity = 2 * kCapacity;
    uint64_t boundaries[kBoundaryCapacity];
    size_t boundary_count = 0;
    for (size_t index = 0; index < entry_count; ++index) {
        const MemoryRegion& entry = entries[index];
        if (entry.length == 0 || entry.base + entry.length < entry.base) {
            ++report.empty_entries;
            continue;
        }
        if (boundary_count + 2 > kBoundaryCapacity) {
            report.truncated = true;
            break;
        }
        boundaries[boundary_count++] = entry.base;
        boundaries[boundary_count++] = entry.base + entry.length;
    }
    insertion_sort(boundaries, boundary_count);

    uint64_t previous_end = 0;
    bool have_previous = false;
    for (size_t index = 0; index + 1 < boundary_count; ++index) {
        uint64_t start = boundaries[index];
        uint64_t end = boundaries[index + 1];
        if (start == end) continue;

        int best = -1;
        MemoryRegionKind kind = MemoryRegionKind::Usable;
        for (size_t entry_index = 0; entry_index < entry_count; ++entry_index) {
            const MemoryRegion& entry = entries[entry_index];
            if (entry.length == 0 || entry.base + entry.length < entry.base) continue;
            if (entry.base > start || entry.base + entry.length < end) continue;
            int entry_priority = priority(entry.kind);
            if (best >= 0 && entry.kind != kind && !is_claim_on_ram(entry.kind, kind)) {
                if (report.overlaps++ == 0) {
                    report.first_overlap_base = start;
                    bool entry_wins = entry_priority > best;
                    report.first_overlap_winner = entry_wins ? entry.kind : kind;
                    report.first_overlap_loser = entry_wins ? kind : entry.kind;
                }
            }
            if (entry_priority > best) {
                best = entry_priority;
                kind = entry.kind;
            }
        }
        if (best < 0) continue;  // a hole between entries

        if (have_previous && start != previous_end) ++report.holes;
        if (count_ > 0 && regions_[count_ - 1].kind == kind &&
            regions_[count_ - 1].end() == start) {
            regions_[count_ - 1].length += end - start;
        } else if (count_ < kCapacity) {
            regions_[count_++] = MemoryRegion{start, end - start, kind};
        } else {
            report.truncated = true;
        }
        previous_end = end;
        have_previous = true;
    }
    return report;
}

uint64_t MemoryMap::total_bytes(MemoryRegionKind kind) const {
    uint64_t total = 0;
    for (const MemoryRegion& region : *this) {
        if (region.kind == kind) total += region.length;
    }
    return total;
}

uint64_t MemoryMap::highest_end(MemoryRegionKind kind) const {
    uint64_t highest = 0;
    for (const MemoryRegion& region : *this) {
        if (region.kind == kind && region.end() > highest) highest = region.end();
    }
    return highest;
}

MemoryRegionKind MemoryMap::kind_at(uint64_t address) const {
    for (const MemoryRegion& region : *this) {
        if (address >= region.base && address < region.end()) return region.kind;
    }
    return MemoryRegionKind::Reserved;
}

}  // namespace umka
