// Per-CPU magazines and the depot (magazines.cpp has the design). This header holds the
// fast paths, inlined into the vtable functions: a CPU pops from or pushes onto its loaded
// magazine with no lock and no shared cache line; everything else is magazines.cpp.
#pragma once

#include "heap.h"
#include "size_classes.h"
#include "slabs.h"

namespace umka::heap {

// The cache of `cpu` if it exists, nullptr otherwise. Lock-free: the directory and its
// entries are published with release stores and never freed.
inline HeapCpuCache* existing_cpu_cache(const HeapState& state, uint32_t cpu) {
    auto* directory = at<HeapCpuDirectory>(load_acquire(state.cpu_directory));
    if (directory == nullptr || cpu >= directory->capacity) return nullptr;
    return at<HeapCpuCache>(load_acquire(reinterpret_cast<uint64_t*>(directory + 1)[cpu]));
}

// The one-call-per-CPU check: false when a call of this CPU is already inside (the slow
// path then reports EBUSY). Only the same CPU (an interrupted call) must see the flag, so a
// compiler barrier keeps the magazine accesses inside it.
inline bool enter_cache(HeapCpuCache& cache) {
    if (load_relaxed(cache.busy) != 0) return false;
    store_relaxed(cache.busy, 1u);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    return true;
}

inline void leave_cache(HeapCpuCache& cache) {
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    store_relaxed(cache.busy, 0u);
}

// Fast allocate: an object of class `index` from the CPU's loaded magazine, or false
// (nothing was changed) when that needs the slow path.
inline bool pop_cached(HeapCpuCache& cache, uint32_t index, uint64_t* address) {
    if (!enter_cache(cache)) return false;
    HeapCpuClass& slot = cache.classes[index];
    auto* magazine = at<HeapMagazine>(slot.loaded);
    bool popped = magazine != nullptr && magazine->count != 0;
    if (popped) {
        uint32_t count = magazine->count - 1;
        store_relaxed(magazine->count, count);
        *address = magazine->rounds[count];
        bump_owned(slot.allocations);
    }
    leave_cache(cache);
    return popped;
}

// Fast free: `address` (of class `index`) onto the CPU's loaded magazine, or false.
inline bool push_cached(HeapCpuCache& cache, uint32_t index, uint64_t address) {
    if (!enter_cache(cache)) return false;
    HeapCpuClass& slot = cache.classes[index];
    auto* magazine = at<HeapMagazine>(slot.loaded);
    bool pushed = magazine != nullptr && magazine->count < class_shape(index).magazine_capacity;
    if (pushed) {
        uint32_t count = magazine->count;
        magazine->rounds[count] = address;
        store_relaxed(magazine->count, count + 1);
        bump_owned(slot.frees);
    }
    leave_cache(cache);
    return pushed;
}

// The slow paths. `*address` is an object of class `index`; ENOMEM or EBUSY otherwise.
Status allocate_small(const Heap& heap, uint32_t cpu, uint32_t index, uint64_t* address);
// `slab` holds object `address` of class slab->class_index (already checked).
Status free_small(const Heap& heap, uint32_t cpu, HeapSlab* slab, uint64_t address);
// Empties `cpu`'s magazines and every depot into the slabs and gives back empty slabs.
Status reclaim(const Heap& heap, uint32_t cpu, uint64_t* released_bytes);

// Calls fn(cache) for every CPU cache (statistics; racy but memory-safe).
template <typename Function>
void for_each_cpu_cache(const HeapState& state, Function&& function) {
    const auto* directory = at<const HeapCpuDirectory>(load_acquire(state.cpu_directory));
    if (directory == nullptr) return;
    const auto* entries = reinterpret_cast<const uint64_t*>(directory + 1);
    for (uint32_t cpu = 0; cpu < directory->capacity; ++cpu) {
        uint64_t cache = load_acquire(entries[cpu]);
        if (cache != 0) function(*at<const HeapCpuCache>(cache));
    }
}

}  // namespace umka::heap
