// nucleus_mechanism.HeapCalls: memory.Heap calls for a module, made as the nucleus makes
// its own (heap_binding.cpp: on the caller's CPU, interrupts off from loading the heap's
// slot to the return), so a module thread preempted anywhere never calls a replaced heap
// instance and never shares a CPU's magazines with another call. The module is trusted
// as the heap's own callers are (tier 0): the heap checks every address it is given back.
#include "nucleus/loader/module_system.h"
#include "nucleus/mm/object_memory.h"
#include "nucleus/published/nucleus_services.h"
#include "umka/kabi/nucleus_mechanism.hpp"

namespace umka::loader {
namespace {

namespace mechanism = umka::kabi::nucleus_mechanism;

// Larger requests are refused rather than handed to the heap: no module needs them, and
// a size near 2^64 would wrap the heap's page rounding.
constexpr uint64_t kLargestAllocation = uint64_t(1) << 30;

struct HeapCallsService {
    [[gnu::always_inline]] static inline Status allocate(void*, uint64_t size, uint64_t* address) {
        if (module_system().record_containing(__builtin_return_address(0)) == nullptr ||
            address == nullptr || size == 0 || size > kLargestAllocation) {
            return Errno::InvalidArgument;
        }
        return heap_allocate(size, address);
    }
    [[gnu::always_inline]] static inline Status free(void*, uint64_t address) {
        if (module_system().record_containing(__builtin_return_address(0)) == nullptr) {
            return Errno::InvalidArgument;
        }
        return heap_free(address);
    }
    static Status nucleus_share(void*, mechanism::NucleusHeapShare* share) {
        ObjectMemoryShare counts = object_memory_share();
        *share = mechanism::NucleusHeapShare{};
        share->class_allocations = counts.class_allocations;
        share->class_frees = counts.class_frees;
        share->large_live = counts.large_live;
        return Status::ok();
    }
};

constexpr mechanism::HeapCallsVtable kHeapCallsVtable =
    mechanism::make_heap_calls_vtable<HeapCallsService>();

}  // namespace

Status publish_heap_calls(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic) {
    return publish_vtable(registry, "nucleus_mechanism", "HeapCalls",
                          reinterpret_cast<const umka_kabi_vtable_header*>(&kHeapCallsVtable),
                          kHeapCallsVtable.version, diagnostic);
}

}  // namespace umka::loader
