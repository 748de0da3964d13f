// The slab layer (slabs.cpp): each class's objects come from slabs, one ModuleMemory region
// each, with the HeapSlab record in its last 64 bytes. Functions run with the class lock
// held unless they say otherwise.
#pragma once

#include "heap.h"
#include "page_map.h"
#include "size_classes.h"

namespace umka::heap {

// Slabs taken off their class to be given back once the lock is dropped (HeapSlab.next).
struct SlabChain {
    HeapSlab* first = nullptr;
    uint64_t bytes = 0;
};

// Up to `wanted` objects from the class's slabs into `out`; how many it took.
uint32_t slab_take(HeapClassDepot& depot, uint64_t* out, uint32_t wanted);
// Puts free `object` back into `slab`; a slab it empties goes to `chain` when the class
// already keeps `retained_empty` empty slabs.
void slab_put(HeapClassDepot& depot, HeapSlab* slab, uint64_t object, uint32_t retained_empty,
              SlabChain& chain);
// Every empty slab of the class into `chain` (reclaim).
void slab_take_all_empty(HeapClassDepot& depot, SlabChain& chain);
// Class lock NOT held: one new slab for class `index`, added empty. ENOMEM when the
// nucleus has no memory (nothing is left allocated then).
Status slab_grow(const Heap& heap, uint32_t index);
// Class lock NOT held: unmaps and gives back every slab of `chain`.
void release_slabs(const Heap& heap, SlabChain& chain);

// Empty slabs a class keeps before further empty ones go back to the nucleus: 64 KiB
// worth (at least one), so a class whose live count swings does not trade slabs with the
// nucleus on every swing, while a burst's memory still goes back (reclaim takes all).
inline constexpr uint32_t kRetainedEmptyBytes = 65536;
inline uint32_t retained_empty_slabs(const HeapClassDepot& depot) {
    uint32_t slabs = kRetainedEmptyBytes / depot.slab_bytes;
    return slabs == 0 ? 1 : slabs;
}

// No lock: the slab named by page map `entry` (not a large one) if `address` is the start
// of an object of it that was handed out at some time; nullptr otherwise. On free's path.
inline HeapSlab* checked_slab(uint64_t entry, uint64_t address) {
    if (entry == 0 || (entry & kLargeTag) != 0) return nullptr;
    HeapSlab* slab = at<HeapSlab>(entry);
    if (slab->magic != kSlabMagic || slab->class_index >= kClassCount || address < slab->base) {
        return nullptr;
    }
    uint32_t object = object_index(slab->class_index, address - slab->base);
    // `untouched` only grows while the slab lives: an index past it was never handed out.
    if (object == kNoObject || object >= load_relaxed(slab->untouched)) return nullptr;
    return slab;
}

// The slab of an object known to be valid (one taken from a magazine).
inline HeapSlab* slab_of_object(const HeapState& state, uint64_t object) {
    return at<HeapSlab>(page_map_lookup(state, object));
}

}  // namespace umka::heap
