// Allocations larger than the largest class (or aligned beyond what a class gives): each
// is a ModuleMemory region of its own, whole pages, recorded in a HeapLargeAllocation
// from the metadata pool. The page map entry of the returned address's page names the
// record (tagged with kLargeTag), which is how free() finds it; free() claims that entry
// with a compare-and-swap, so of two frees of the same address exactly one succeeds.
#include "heap_versions.h"
#include "page_map.h"

namespace umka::heap {
namespace {

// Larger than any region a 48-bit address space can hold: refused before any arithmetic
// can overflow.
constexpr uint64_t kLargestRequest = uint64_t(1) << 47;

Status count_failure(const Heap& heap) {
    add_relaxed(heap.state->large_failed_allocations, uint64_t(1));
    return UMKA_KABI_ENOMEM;
}

}  // namespace

Status allocate_large(const Heap& heap, uint64_t size, uint64_t alignment, uint64_t* address) {
    HeapState& state = *heap.state;
    if (size > kLargestRequest || alignment > kLargestRequest) return count_failure(heap);
    if (alignment < kPageSize) alignment = kPageSize;  // regions are page aligned anyway
    // Regions are only page aligned: ask for enough to find an aligned start inside.
    uint64_t length = ((size + kPageSize - 1) & ~(kPageSize - 1)) + (alignment - kPageSize);
    HeapLargeAllocation* record = take_large_record(heap);
    if (record == nullptr) return count_failure(heap);
    Region region{};
    if (obtain_region(heap, length, services::MemoryFlags{}, &region).is_error()) {
        return_large_record(heap, record);
        return count_failure(heap);
    }
    uint64_t start = (region.address + alignment - 1) & ~(alignment - 1);
    record->magic = kLargeMagic;
    record->region = region.handle;
    record->region_address = region.address;
    record->region_length = region.length;
    record->address = start;
    record->size = size;
    if (page_map_set(heap, start, 1, address_of(record) | kLargeTag).is_error()) {
        give_back_region(heap, region.handle, "large allocation");
        return_large_record(heap, record);
        return count_failure(heap);
    }
    add_relaxed(state.large_allocations, uint64_t(1));
    add_relaxed(state.large_bytes, region.length);
    note_large_bytes(state);
    add_relaxed(state.large_allocations_total, uint64_t(1));
    *address = start;
    return Status::ok();
}

Status free_large(const Heap& heap, HeapLargeAllocation* record, uint64_t address) {
    HeapState& state = *heap.state;
    if (record->magic != kLargeMagic || record->address != address ||
        !page_map_take(state, address, address_of(record) | kLargeTag)) {
        return UMKA_KABI_EINVAL;
    }
    services::MemoryRegion handle = record->region;
    uint64_t length = record->region_length;
    record->magic = 0;
    subtract_relaxed(state.large_allocations, uint64_t(1));
    subtract_relaxed(state.large_bytes, length);
    add_relaxed(state.large_frees_total, uint64_t(1));
    give_back_region(heap, handle, "large allocation");
    return_large_record(heap, record);
    return Status::ok();
}

}  // namespace umka::heap
