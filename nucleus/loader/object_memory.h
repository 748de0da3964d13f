// Memory for the nucleus's own objects once the heap module runs (ring bindings, workload
// tables, scan scratch): the kernel heap serves the nucleus as it serves modules. Before a
// heap module is bound, or when it cannot serve, whole frames (allocate_zeroed) do.
// Objects are zeroed and cache-line aligned. A heap swap keeps them valid: the heap's
// metadata is nucleus memory carried to the new instance.
#pragma once

#include <stddef.h>

#include "nucleus/console/text_output.h"
#include "nucleus/lib/status.h"

namespace umka::loader {

inline constexpr size_t kObjectAlignment = 64;

Result<void*> allocate_object(size_t bytes);
// Gives back what allocate_object returned, to the heap or to the frame allocator,
// whichever it came from. nullptr is ignored.
void free_object(void* object);

// One line for `heap`: the nucleus's own share of the heap's counts (class objects
// allocated and freed, large allocations live), so a workload's books can be checked.
void print_object_memory(console::TextOutput& out);

}  // namespace umka::loader
