// Memory for the nucleus's own objects once the heap module runs (ring bindings,
// tables, scan scratch): the kernel heap serves the nucleus as it serves modules. Before a
// heap module is bound, or when it cannot serve, whole frames (allocate_zeroed) do.
// Objects are zeroed and cache-line aligned. A heap swap keeps them valid: the heap's
// metadata is nucleus memory carried to the new instance.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"

namespace umka::loader {

inline constexpr size_t kObjectAlignment = 64;

Result<void*> allocate_object(size_t bytes);
// Gives back what allocate_object returned, to the heap or to the frame allocator,
// whichever it came from. nullptr is ignored.
void free_object(void* object);

// The nucleus's own share of the heap's counts, so a workload's books can be checked
// (nucleus_mechanism.HeapCalls.nucleus_share).
struct ObjectMemoryShare {
    uint64_t class_allocations;
    uint64_t class_frees;
    uint64_t large_live;
};
ObjectMemoryShare object_memory_share();

}  // namespace umka::loader
