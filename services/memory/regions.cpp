// Memory from the nucleus (kernel_services.ModuleMemory), the metadata pool carved from it
// (magazines and large-allocation records), and log lines.
//
// Every region the heap holds is counted in HeapState.regions. ModuleMemory is bound per
// call (never cached), so a swap of its provider is seen at once; it is called with no heap
// lock held (heap.h).
#include "heap.h"

namespace umka::heap {

// --- log lines ---------------------------------------------------------------------------

void log_line(const Heap& heap, services::LogLevel level, const LineText& line) {
    services::LogRef log;
    // Without a Log the line is lost: there is nowhere else to say it.
    if (umka::kabi::bind_required(heap.binding, kLog, &log).is_ok()) {
        log.write(level, line.data(), line.length());
    }
}

// --- regions -----------------------------------------------------------------------------

namespace {

void log_memory_failure(const Heap& heap, const char* what, uint64_t length, Status status) {
    LineText line;
    line.add("heap: ModuleMemory.").add(what).add(" for ").number(length);
    line.add(" bytes failed (errno ").number(uint64_t(status.code())).add(")");
    log_line(heap, services::LogLevel::Error, line);
}

}  // namespace

Status obtain_region(const Heap& heap, uint64_t length, services::MemoryFlags flags, Region* out) {
    services::ModuleMemoryRef memory;
    if (Status bound = umka::kabi::bind_required(heap.binding, kModuleMemory, &memory);
        bound.is_error()) {
        log_memory_failure(heap, "bind", length, bound);
        return UMKA_KABI_ENOMEM;
    }
    services::MemoryRegion handle{};
    // ENOMEM, or EINVAL for a length past what the nucleus can hand out in one region:
    // both mean this request cannot be met, which the heap's callers see as ENOMEM.
    if (memory.allocate(length, flags, &handle).is_error()) return UMKA_KABI_ENOMEM;
    services::RegionInfo info{};
    Status described = memory.describe(handle, &info);
    if (described.is_error() || info.address % kPageSize != 0 || info.length < length ||
        info.address == 0) {
        // The nucleus broke the ModuleMemory contract (a page-aligned region of at least
        // `length` bytes it can describe): refuse the region rather than misuse it.
        log_memory_failure(heap, described.is_error() ? "describe" : "describe (bad region)",
                           length, described.is_error() ? described : Status(UMKA_KABI_EINVAL));
        (void)memory.release(handle);
        return UMKA_KABI_ENOMEM;
    }
    add_relaxed(heap.state->regions, uint64_t(1));
    *out = Region{handle, info.address, info.length};
    return Status::ok();
}

void give_back_region(const Heap& heap, services::MemoryRegion handle, const char* what) {
    services::ModuleMemoryRef memory;
    Status status = umka::kabi::bind_required(heap.binding, kModuleMemory, &memory);
    if (status.is_ok()) status = memory.release(handle);
    subtract_relaxed(heap.state->regions, uint64_t(1));
    if (status.is_ok()) return;
    add_relaxed(heap.state->release_failures, uint64_t(1));
    LineText line;
    line.add("heap: ModuleMemory.release of ").add(what).add(" region ").hex(handle.value);
    line.add(" failed (errno ").number(uint64_t(status.code())).add("); the region is lost");
    log_line(heap, services::LogLevel::Error, line);
}

// --- metadata pool -----------------------------------------------------------------------
// Chunks are carved from 64 KiB regions (the cursor and end are in HeapState) and recycled
// through per-kind free lists; pool regions are never given back (they hold magazines of
// every class and records, a few hundred KiB at most under any load).

namespace {

constexpr uint64_t kPoolRegionBytes = 65536;

enum class ChunkKind { Magazine, LargeRecord };

uint64_t& free_list_of(HeapState& state, ChunkKind kind) {
    return kind == ChunkKind::Magazine ? state.free_magazines : state.free_large_records;
}

uint64_t& link_of(uint64_t chunk, ChunkKind kind) {
    return kind == ChunkKind::Magazine ? at<HeapMagazine>(chunk)->next
                                       : at<HeapLargeAllocation>(chunk)->next;
}

uint64_t chunk_bytes(ChunkKind kind) {
    return kind == ChunkKind::Magazine ? sizeof(HeapMagazine) : sizeof(HeapLargeAllocation);
}

// Under the pool lock: a chunk from the free list or the current region, or 0.
uint64_t take_locked(HeapState& state, ChunkKind kind) {
    uint64_t& list = free_list_of(state, kind);
    if (list != 0) {
        uint64_t chunk = list;
        list = link_of(chunk, kind);
        return chunk;
    }
    uint64_t bytes = chunk_bytes(kind);
    uint64_t start = (state.pool_cursor + bytes - 1) & ~(bytes - 1);  // chunks aligned to size
    if (state.pool_cursor == 0 || start + bytes > state.pool_end) return 0;
    state.pool_cursor = start + bytes;
    return start;
}

uint64_t take_chunk(const Heap& heap, ChunkKind kind) {
    HeapState& state = *heap.state;
    for (;;) {
        {
            SpinGuard guard(state.pool_lock);
            if (uint64_t chunk = take_locked(state, kind)) return chunk;
        }
        Region region{};
        if (obtain_region(heap, kPoolRegionBytes, services::MemoryFlags::Zeroed, &region)
                .is_error()) {
            return 0;
        }
        bool installed = false;
        {
            SpinGuard guard(state.pool_lock);
            // Another CPU may have refilled the pool meanwhile; then this region goes back.
            if (state.pool_cursor == 0 || state.pool_cursor + chunk_bytes(kind) > state.pool_end) {
                state.pool_cursor = region.address;
                state.pool_end = region.address + region.length;
                add_relaxed(state.metadata_bytes, region.length);
                installed = true;
            }
        }
        if (!installed) give_back_region(heap, region.handle, "spare metadata pool");
    }
}

void return_chunk(const Heap& heap, uint64_t chunk, ChunkKind kind) {
    HeapState& state = *heap.state;
    SpinGuard guard(state.pool_lock);
    uint64_t& list = free_list_of(state, kind);
    link_of(chunk, kind) = list;
    list = chunk;
}

}  // namespace

HeapMagazine* take_magazine(const Heap& heap) {
    auto* magazine = at<HeapMagazine>(take_chunk(heap, ChunkKind::Magazine));
    if (magazine != nullptr) *magazine = HeapMagazine{};
    return magazine;
}

void return_magazine(const Heap& heap, HeapMagazine* magazine) {
    return_chunk(heap, address_of(magazine), ChunkKind::Magazine);
}

HeapLargeAllocation* take_large_record(const Heap& heap) {
    auto* record = at<HeapLargeAllocation>(take_chunk(heap, ChunkKind::LargeRecord));
    if (record != nullptr) *record = HeapLargeAllocation{};
    return record;
}

void return_large_record(const Heap& heap, HeapLargeAllocation* record) {
    return_chunk(heap, address_of(record), ChunkKind::LargeRecord);
}

}  // namespace umka::heap
