#include "nucleus/mm/object_memory.h"

#include <atomic>

#include "nucleus/lib/log.h"
#include "nucleus/loader/module_system.h"

namespace umka::loader {
namespace {

// The heap's largest size class (services/memory/README.md): anything it reports as
// usable beyond this is a large (page-granular) allocation.
constexpr uint64_t kLargestClassBytes = 2048;

struct ObjectCounts {
    std::atomic<uint64_t> class_allocations;
    std::atomic<uint64_t> class_frees;
    std::atomic<uint64_t> large_allocations;
    std::atomic<uint64_t> large_frees;
};
constinit ObjectCounts counts{};

void count(uint64_t usable_size, std::atomic<uint64_t>& small, std::atomic<uint64_t>& large) {
    (usable_size <= kLargestClassBytes ? small : large).fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

Result<void*> allocate_object(size_t bytes) {
    if (bytes == 0) return Errno::InvalidArgument;
    uint64_t address = 0;
    if (heap_allocate_aligned(bytes, kObjectAlignment, &address).is_ok()) {
        uint64_t usable = 0;
        (void)heap_usable_size(address, &usable);
        count(usable, counts.class_allocations, counts.large_allocations);
        void* object = reinterpret_cast<void*>(address);
        __builtin_memset(object, 0, bytes);
        return object;
    }
    // No heap module (yet), or it is out of memory: frames are page aligned and zeroed.
    return allocate_zeroed(bytes);
}

void free_object(void* object) {
    if (object == nullptr) return;
    uint64_t usable = 0;
    switch (heap_free_if_owned(reinterpret_cast<uint64_t>(object), &usable)) {
    case HeapRelease::Freed:
        count(usable, counts.class_frees, counts.large_frees);
        return;
    case HeapRelease::NotOwned:
        free_zeroed(object);
        return;
    case HeapRelease::Refused:
        // The heap owns it but would not take it back: a nucleus bug; keep running.
        log("objects: the heap refused to free %p\n", object);
        return;
    }
}

ObjectMemoryShare object_memory_share() {
    return {counts.class_allocations.load(std::memory_order_relaxed),
            counts.class_frees.load(std::memory_order_relaxed),
            counts.large_allocations.load(std::memory_order_relaxed) -
                counts.large_frees.load(std::memory_order_relaxed)};
}

}  // namespace umka::loader
