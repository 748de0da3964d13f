// The kernel heap module (kabi-idl/modules/memory_service.kabi, module kernel_heap):
// provides memory.Heap; requires kernel_services.Log and kernel_services.ModuleMemory.
// This file is the entry point and the Heap vtable; the parts are in heap.h.
#include "heap.h"
#include "heap_versions.h"
#include "magazines.h"
#include "page_map.h"
#include "size_classes.h"
#include "slabs.h"
#include "umka/kabi/memory_service_manifest.hpp"

namespace umka::heap {
namespace {

Status refuse_address(const Heap& heap, const char* operation, uint32_t cpu, uint64_t address) {
    LineText line;
    line.add("heap: ").add(operation).add(" of ").hex(address);
    if (cpu != kNoClass) line.add(" on CPU ").number(cpu);
    line.add(": not the start of an allocation this heap handed out and still holds");
    log_line(heap, services::LogLevel::Error, line);
    return UMKA_KABI_EINVAL;
}

// The large-allocation record `entry` names if `address` is that allocation's start.
HeapLargeAllocation* checked_large(uint64_t entry, uint64_t address) {
    if ((entry & kLargeTag) == 0) return nullptr;
    auto* record = at<HeapLargeAllocation>(entry & ~kLargeTag);
    return record->magic == kLargeMagic && record->address == address ? record : nullptr;
}

struct HeapService {
    static Status allocate(void* context, uint32_t cpu, uint64_t size, uint64_t alignment,
                           uint64_t* address) {
        if (address == nullptr) return UMKA_KABI_EINVAL;
        *address = 0;
        if (size == 0) return UMKA_KABI_EINVAL;
        if (alignment == 0) alignment = kMinimumAlignment;
        if ((alignment & (alignment - 1)) != 0) return UMKA_KABI_EINVAL;
        Heap heap = heap_of(context);
        uint32_t index = class_for(size, alignment);
        if (index == kNoClass) return allocate_large(heap, size, alignment, address);
        HeapCpuCache* cache = existing_cpu_cache(*heap.state, cpu);
        if (cache != nullptr && pop_cached(*cache, index, address)) return Status::ok();
        return allocate_small(heap, cpu, index, address);
    }

    static Status free(void* context, uint32_t cpu, uint64_t address) {
        if (address == 0) return Status::ok();  // as C's free(NULL): callers need no check
        Heap heap = heap_of(context);
        uint64_t entry = page_map_lookup(*heap.state, address);
        if ((entry & kLargeTag) != 0) {
            auto* record = at<HeapLargeAllocation>(entry & ~kLargeTag);
            if (free_large(heap, record, address).is_error()) {
                return refuse_address(heap, "free", cpu, address);
            }
            return Status::ok();
        }
        HeapSlab* slab = checked_slab(entry, address);
        if (slab == nullptr) return refuse_address(heap, "free", cpu, address);
        HeapCpuCache* cache = existing_cpu_cache(*heap.state, cpu);
        if (cache != nullptr && push_cached(*cache, slab->class_index, address)) {
            return Status::ok();
        }
        return free_small(heap, cpu, slab, address);
    }

    static Status usable_size(void* context, uint64_t address, uint64_t* size) {
        if (size == nullptr) return UMKA_KABI_EINVAL;
        *size = 0;
        Heap heap = heap_of(context);
        uint64_t entry = page_map_lookup(*heap.state, address);
        if (HeapLargeAllocation* record = checked_large(entry, address)) {
            *size = record->region_address + record->region_length - address;
            return Status::ok();
        }
        HeapSlab* slab = checked_slab(entry, address);
        if (slab == nullptr) return refuse_address(heap, "usable_size", kNoClass, address);
        *size = class_shape(slab->class_index).object_size;
        return Status::ok();
    }

    static Status reclaim(void* context, uint32_t cpu, uint64_t* released_bytes) {
        if (released_bytes == nullptr) return UMKA_KABI_EINVAL;
        return umka::heap::reclaim(heap_of(context), cpu, released_bytes);
    }

    static uint32_t class_count(void*) { return kClassCount; }

    static Status class_statistics(void* context, uint32_t class_index,
                                   memory::HeapClassStatistics* statistics) {
        if (statistics == nullptr || class_index >= kClassCount) return UMKA_KABI_EINVAL;
        Heap heap = heap_of(context);
        HeapClassDepot& depot = heap.state->classes[class_index];
        memory::HeapClassStatistics result{};
        result.object_size = depot.object_size;
        result.objects_per_slab = depot.objects_per_slab;
        result.slab_bytes = depot.slab_bytes;
        result.magazine_capacity = depot.magazine_capacity;
        {
            SpinGuard guard(depot.lock);
            result.allocations = depot.shared_allocations;
            result.frees = depot.shared_frees;
            result.cached_objects = depot.depot_objects;
            result.slab_free_objects = depot.slab_free_objects;
            result.slabs = depot.slabs;
        }
        result.failed_allocations = load_relaxed(depot.failed_allocations);
        // Other CPUs' counters and magazines, read without their cooperation: exact when
        // they are outside the heap, otherwise a few operations behind. Magazines are never
        // given back to the nucleus, so a stale magazine address is still readable.
        for_each_cpu_cache(*heap.state, [&](const HeapCpuCache& cache) {
            const HeapCpuClass& slot = cache.classes[class_index];
            result.allocations += load_relaxed(slot.allocations);
            result.frees += load_relaxed(slot.frees);
            uint64_t loaded = load_relaxed(slot.loaded);
            uint64_t previous = load_relaxed(slot.previous);
            if (loaded != 0) result.cached_objects += load_relaxed(at<HeapMagazine>(loaded)->count);
            if (previous != 0) {
                result.cached_objects += load_relaxed(at<HeapMagazine>(previous)->count);
            }
        });
        result.live_objects = result.allocations - result.frees;
        *statistics = result;
        return Status::ok();
    }

    static Status statistics(void* context, memory::HeapStatistics* statistics) {
        if (statistics == nullptr) return UMKA_KABI_EINVAL;
        const HeapState& state = *heap_of(context).state;
        memory::HeapStatistics result{};
        result.class_count = kClassCount;
        result.cpu_caches = load_relaxed(state.cpu_caches);
        result.large_allocations = load_relaxed(state.large_allocations);
        result.large_bytes = load_relaxed(state.large_bytes);
        result.large_allocations_total = load_relaxed(state.large_allocations_total);
        result.large_frees_total = load_relaxed(state.large_frees_total);
        result.metadata_bytes = load_relaxed(state.metadata_bytes);
        result.regions = load_relaxed(state.regions);
        result.failed_allocations = load_relaxed(state.large_failed_allocations);
        result.release_failures = load_relaxed(state.release_failures);
        for (const HeapClassDepot& depot : state.classes) {
            result.slab_bytes += load_relaxed(depot.slabs) * depot.slab_bytes;
            result.failed_allocations += load_relaxed(depot.failed_allocations);
        }
        *statistics = result;
        return Status::ok();
    }
};
static_assert(__is_empty(HeapService), "module code keeps no state of its own");

constexpr memory::HeapVtable heap_vtable = memory::make_heap_vtable<HeapService>();

// Entry cannot log (module_entry.h): the reason goes with the refusal into the nucleus's
// report. The binding is the module's to write its refusal into.
Status refuse_state(const UmkaModuleBinding* binding, const char* reason, uint64_t value) {
    LineText line;
    line.add("heap: refusing the state region: ").add(reason).add(" ").number(value);
    return umka_module_refuse(const_cast<UmkaModuleBinding*>(binding), UMKA_KABI_EINVAL,
                              line.data(), line.length());
}

// Sets up a fresh state, or checks that a carried one is in the format this code runs on.
// A carried state is live: the previous instance may still serve calls until the swap, so
// this only reads it.
Status adopt_state(const UmkaModuleBinding* binding, HeapState& state) {
    const UmkaStateRegion& region = binding->states[0];
    bool carried = region.origin == UMKA_STATE_ORIGIN_CARRIED;
    if (region.schema_version != layout::heap_state_version) {
        // The state holds live addresses: there is no copying it into another schema here.
        return refuse_state(binding, "schema version is", region.schema_version);
    }
    if (!carried || state.layout_version == 0) {
        // Fresh (zeroed), or carried from an instance whose entry never set it up.
        set_up_classes(state);
        state.layout_version = kLayoutVersion;
        return Status::ok();
    }
    if (state.layout_version != kLayoutVersion) {
        return refuse_state(binding, "metadata layout version is", state.layout_version);
    }
    uint32_t mismatch = 0;
    if (!classes_match(state, &mismatch)) {
        return refuse_state(binding, "its size classes differ from this module's at class",
                            mismatch);
    }
    return Status::ok();
}

// Once committed (module_entry.h): says what a carried state held when this instance took
// it over.
int32_t start_heap(UmkaModuleBinding* binding) {
    if (binding->states[0].origin != UMKA_STATE_ORIGIN_CARRIED) return UMKA_KABI_OK;
    HeapState& state = *umka::kabi::module_state<HeapState>(binding);
    LineText line;
    line.add("heap: adopted a carried state: ").number(load_relaxed(state.regions));
    line.add(" regions, ").number(load_relaxed(state.large_allocations));
    line.add(" large allocations, ").number(load_relaxed(state.cpu_caches)).add(" CPU caches");
    log_line(Heap{binding, &state}, services::LogLevel::Info, line);
    return UMKA_KABI_OK;
}

}  // namespace
}  // namespace umka::heap

UMKA_KABI_DEFINE_MANIFEST_KERNEL_HEAP();

UMKA_MODULE_ENTRY(binding) {
    using namespace umka::heap;
    if (!umka_module_binding_matches(binding, kRequiredCount, kProvidedCount, kStateCount)) {
        return UMKA_KABI_EINVAL;
    }
    HeapState* state = umka::kabi::module_state<HeapState>(binding);
    if (state == nullptr) {
        return refuse_state(binding, "too small, bytes:", binding->states[0].size).code();
    }
    if (Status adopted = adopt_state(binding, *state); adopted.is_error()) return adopted.code();
    // A successor in a live swap takes over HeapState through the import function (the
    // binding check above guarantees the field exists).
    if (int32_t status = umka_module_set_state_import(binding, import_heap_state);
        status != UMKA_KABI_OK) {
        return status;
    }
    if (int32_t status = umka_module_set_start(binding, start_heap); status != UMKA_KABI_OK) {
        return status;
    }
    return umka_module_provide(binding, kHeap, &heap_vtable, binding);
}
