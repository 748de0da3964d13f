// Per-CPU magazines and the depot (Bonwick and Adams, "Magazines and Vmem", USENIX 2001).
//
// Each CPU has, per class, two magazines (stacks of up to magazine_capacity free objects):
// `loaded` and `previous`. Allocation pops from loaded; when it is empty and previous is
// not, the two swap. Free pushes onto loaded; when it is full and previous is not, they
// swap. Only when both are empty (allocate) or both full (free) does the CPU take its
// class's lock, to exchange a whole magazine with the depot: a full one for an empty one,
// or the reverse. So a CPU goes to the lock at most once per magazine_capacity operations,
// and a producer on one CPU and a consumer on another move whole magazines, not objects.
//
// The depot keeps at most kDepotFullLimit full magazines per class; past that a full
// magazine's objects go back to their slabs (which may then go back to the nucleus). When
// the depot has no full magazine, an allocating CPU fills its magazine straight from the
// slabs, growing the class by a slab when they are all in use.
//
// A CPU's magazines are its own: only calls naming that CPU touch them, and the caller
// guarantees one such call at a time (heap.h). HeapCpuCache.busy checks that cheaply.
#include "magazines.h"

namespace umka::heap {
namespace {

constexpr uint32_t kDepotFullLimit = 8;
constexpr uint32_t kDepotEmptyLimit = 4;
// A CPU directory never exceeds 1 MiB (131068 CPUs): a corrupt CPU index cannot make the
// heap ask for gigabytes. A CPU past it is still served, through the shared path.
constexpr uint64_t kDirectoryLimitBytes = uint64_t(1) << 20;

HeapMagazine* magazine_at(uint64_t address) {
    return at<HeapMagazine>(address);
}

uint64_t* directory_entries(HeapCpuDirectory* directory) {
    return reinterpret_cast<uint64_t*>(directory + 1);
}

// --- the one-call-per-CPU check ----------------------------------------------------------

Status refuse_busy(const Heap& heap, uint32_t cpu, const char* operation) {
    LineText line;
    line.add("heap: ").add(operation).add(" on CPU ").number(cpu);
    line.add(" while another call of that CPU is inside the heap (EBUSY): the caller must ");
    line.add("run heap calls with preemption off and not from interrupts that can nest");
    log_line(heap, services::LogLevel::Error, line);
    return UMKA_KABI_EBUSY;
}

// --- CPU caches --------------------------------------------------------------------------

// Makes `cpu`'s cache (one zeroed page) and enters it in the directory, growing the
// directory if `cpu` is past it. nullptr when memory is short: the caller then uses the
// shared path, which is correct, only slower.
HeapCpuCache* make_cpu_cache(const Heap& heap, uint32_t cpu) {
    HeapState& state = *heap.state;
    if (sizeof(HeapCpuDirectory) + (uint64_t(cpu) + 1) * sizeof(uint64_t) > kDirectoryLimitBytes) {
        return nullptr;
    }
    Region cache_region{};
    if (obtain_region(heap, kPageSize, services::MemoryFlags::Zeroed, &cache_region).is_error()) {
        return nullptr;
    }
    auto* cache = at<HeapCpuCache>(cache_region.address);
    cache->cpu = cpu;
    cache->region = cache_region.handle;
    uint64_t result = 0;
    while (result == 0) {
        uint64_t seen = 0;
        {
            SpinGuard guard(state.pool_lock);
            seen = state.cpu_directory;
            auto* directory = at<HeapCpuDirectory>(seen);
            if (directory != nullptr && cpu < directory->capacity) {
                uint64_t& entry = directory_entries(directory)[cpu];
                if (entry == 0) {
                    store_release(entry, address_of(cache));
                    state.cpu_caches += 1;
                    add_relaxed(state.metadata_bytes, cache_region.length);
                }
                result = entry;  // another call named this CPU meanwhile: keep its cache
                continue;
            }
        }
        // Grow: at least double, so a machine's CPUs cost a logarithmic number of copies.
        // The old directory stays readable (retired), as lock-free readers may hold it.
        const auto* old_directory = at<HeapCpuDirectory>(seen);
        uint64_t capacity = uint64_t(cpu) + 1;
        if (old_directory != nullptr && capacity < 2 * uint64_t(old_directory->capacity)) {
            capacity = 2 * uint64_t(old_directory->capacity);
        }
        uint64_t bytes = sizeof(HeapCpuDirectory) + capacity * sizeof(uint64_t);
        bytes = (bytes + kPageSize - 1) & ~(kPageSize - 1);
        if (bytes > kDirectoryLimitBytes) bytes = kDirectoryLimitBytes;
        Region directory_region{};
        if (obtain_region(heap, bytes, services::MemoryFlags::Zeroed, &directory_region)
                .is_error()) {
            give_back_region(heap, cache_region.handle, "CPU cache");
            return nullptr;
        }
        auto* directory = at<HeapCpuDirectory>(directory_region.address);
        directory->capacity = uint32_t((bytes - sizeof(HeapCpuDirectory)) / sizeof(uint64_t));
        directory->region = directory_region.handle;
        directory->retired = seen;
        bool installed = false;
        {
            SpinGuard guard(state.pool_lock);
            if (state.cpu_directory == seen) {
                if (old_directory != nullptr) {
                    const uint64_t* old_entries =
                        reinterpret_cast<const uint64_t*>(old_directory + 1);
                    for (uint32_t index = 0; index < old_directory->capacity; ++index) {
                        directory_entries(directory)[index] = old_entries[index];
                    }
                }
                store_release(state.cpu_directory, address_of(directory));
                add_relaxed(state.metadata_bytes, directory_region.length);
                installed = true;
            }
        }
        if (!installed) give_back_region(heap, directory_region.handle, "spare CPU directory");
    }
    if (result != address_of(cache)) give_back_region(heap, cache_region.handle, "spare CPU cache");
    return at<HeapCpuCache>(result);
}

HeapCpuCache* cpu_cache(const Heap& heap, uint32_t cpu) {
    if (HeapCpuCache* cache = existing_cpu_cache(*heap.state, cpu)) return cache;
    return make_cpu_cache(heap, cpu);
}

// Both magazines of a class slot, taken from the pool on the CPU's first use of the class;
// false when the pool has no memory (the call then bypasses the magazines).
bool ensure_magazines(const Heap& heap, HeapCpuClass& slot) {
    if (slot.loaded != 0) return true;  // loaded and previous are set together
    HeapMagazine* loaded = take_magazine(heap);
    if (loaded == nullptr) return false;
    HeapMagazine* previous = take_magazine(heap);
    if (previous == nullptr) {
        return_magazine(heap, loaded);
        return false;
    }
    store_relaxed(slot.previous, address_of(previous));
    store_relaxed(slot.loaded, address_of(loaded));
    return true;
}

void swap_magazines(HeapCpuClass& slot) {
    uint64_t loaded = slot.loaded;
    store_relaxed(slot.loaded, slot.previous);
    store_relaxed(slot.previous, loaded);
}

uint64_t pop(HeapMagazine* magazine) {
    uint32_t count = magazine->count - 1;
    store_relaxed(magazine->count, count);
    return magazine->rounds[count];
}

void push(HeapMagazine* magazine, uint64_t object) {
    uint32_t count = magazine->count;
    magazine->rounds[count] = object;
    store_relaxed(magazine->count, count + 1);
}

// Class lock held: a magazine's objects back into their slabs.
void drain(const HeapState& state, HeapClassDepot& depot, HeapMagazine* magazine,
           uint32_t retained_empty, SlabChain& chain) {
    for (uint32_t round = 0; round < magazine->count; ++round) {
        uint64_t object = magazine->rounds[round];
        slab_put(depot, slab_of_object(state, object), object, retained_empty, chain);
    }
    store_relaxed(magazine->count, 0u);
}

void push_list(uint64_t& head, HeapMagazine* magazine) {
    magazine->next = head;
    head = address_of(magazine);
}

HeapMagazine* pop_list(uint64_t& head) {
    HeapMagazine* magazine = magazine_at(head);
    if (magazine != nullptr) head = magazine->next;
    return magazine;
}

// --- paths without magazines -------------------------------------------------------------

Status shared_allocate(const Heap& heap, uint32_t index, uint64_t* address) {
    HeapClassDepot& depot = heap.state->classes[index];
    for (;;) {
        {
            SpinGuard guard(depot.lock);
            if (slab_take(depot, address, 1) == 1) {
                depot.shared_allocations += 1;
                return Status::ok();
            }
        }
        if (slab_grow(heap, index).is_error()) {
            add_relaxed(depot.failed_allocations, uint64_t(1));
            return UMKA_KABI_ENOMEM;
        }
    }
}

void put_in_slab(const Heap& heap, uint32_t index, HeapSlab* slab, uint64_t address,
                 bool count_as_shared) {
    HeapClassDepot& depot = heap.state->classes[index];
    SlabChain chain;
    {
        SpinGuard guard(depot.lock);
        slab_put(depot, slab, address, retained_empty_slabs(depot), chain);
        if (count_as_shared) depot.shared_frees += 1;
    }
    release_slabs(heap, chain);
}

// --- slow paths with magazines -----------------------------------------------------------

// Both magazines are empty: exchange the empty previous for a full one from the depot, or
// fill loaded from the slabs (growing the class). ENOMEM when there is no memory.
Status refill(const Heap& heap, HeapCpuClass& slot, uint32_t index) {
    HeapClassDepot& depot = heap.state->classes[index];
    HeapMagazine* surplus = nullptr;
    for (;;) {
        {
            SpinGuard guard(depot.lock);
            if (HeapMagazine* full = pop_list(depot.full_magazines)) {
                depot.full_magazine_count -= 1;
                depot.depot_objects -= full->count;
                HeapMagazine* empty = magazine_at(slot.previous);
                if (depot.empty_magazine_count < kDepotEmptyLimit) {
                    push_list(depot.empty_magazines, empty);
                    depot.empty_magazine_count += 1;
                } else {
                    surplus = empty;
                }
                store_relaxed(slot.previous, slot.loaded);
                store_relaxed(slot.loaded, address_of(full));
                break;
            }
            HeapMagazine* loaded = magazine_at(slot.loaded);
            uint32_t taken = slab_take(depot, loaded->rounds, depot.magazine_capacity);
            if (taken != 0) {
                store_relaxed(loaded->count, taken);
                break;
            }
        }
        if (slab_grow(heap, index).is_error()) {
            add_relaxed(depot.failed_allocations, uint64_t(1));
            return UMKA_KABI_ENOMEM;
        }
    }
    if (surplus != nullptr) return_magazine(heap, surplus);
    return Status::ok();
}

// Both magazines are full: hand the full previous to the depot for an empty one, or, when
// the depot holds enough full magazines (or no empty one can be had), drain previous into
// the slabs. Afterwards loaded has room. Never fails: draining needs no memory.
void make_room(const Heap& heap, HeapCpuClass& slot, uint32_t index) {
    HeapClassDepot& depot = heap.state->classes[index];
    HeapMagazine* fresh = nullptr;  // from the pool, when the depot had no empty magazine
    bool asked_pool = false;
    SlabChain chain;
    for (;;) {
        {
            SpinGuard guard(depot.lock);
            if (depot.full_magazine_count < kDepotFullLimit) {
                HeapMagazine* empty = pop_list(depot.empty_magazines);
                if (empty != nullptr) {
                    depot.empty_magazine_count -= 1;
                } else {
                    empty = fresh;
                    fresh = nullptr;
                }
                if (empty != nullptr) {
                    HeapMagazine* full = magazine_at(slot.previous);
                    push_list(depot.full_magazines, full);
                    depot.full_magazine_count += 1;
                    depot.depot_objects += full->count;
                    store_relaxed(slot.previous, slot.loaded);
                    store_relaxed(slot.loaded, address_of(empty));
                    break;
                }
            }
            if (asked_pool || depot.full_magazine_count >= kDepotFullLimit) {
                drain(*heap.state, depot, magazine_at(slot.previous), retained_empty_slabs(depot),
                      chain);
                swap_magazines(slot);
                break;
            }
        }
        asked_pool = true;
        fresh = take_magazine(heap);  // nullptr: the next pass drains instead
    }
    release_slabs(heap, chain);
    if (fresh != nullptr) return_magazine(heap, fresh);
}

}  // namespace

Status allocate_small(const Heap& heap, uint32_t cpu, uint32_t index, uint64_t* address) {
    HeapCpuCache* cache = cpu_cache(heap, cpu);
    if (cache == nullptr) return shared_allocate(heap, index, address);
    if (!enter_cache(*cache)) return refuse_busy(heap, cpu, "allocate");
    HeapCpuClass& slot = cache->classes[index];
    Status status = Status::ok();
    HeapMagazine* loaded = magazine_at(slot.loaded);
    if (loaded != nullptr && loaded->count != 0) {
        *address = pop(loaded);  // the fast path: no lock, no shared cache line
    } else if (!ensure_magazines(heap, slot)) {
        status = shared_allocate(heap, index, address);
    } else {
        if (magazine_at(slot.previous)->count != 0) {
            swap_magazines(slot);
        } else {
            status = refill(heap, slot, index);
        }
        if (status.is_ok()) *address = pop(magazine_at(slot.loaded));
    }
    // Counted here unless the shared path counted it.
    if (status.is_ok() && slot.loaded != 0) bump_owned(slot.allocations);
    leave_cache(*cache);
    return status;
}

Status free_small(const Heap& heap, uint32_t cpu, HeapSlab* slab, uint64_t address) {
    uint32_t index = slab->class_index;
    HeapCpuCache* cache = cpu_cache(heap, cpu);
    if (cache == nullptr) {
        put_in_slab(heap, index, slab, address, true);
        return Status::ok();
    }
    if (!enter_cache(*cache)) return refuse_busy(heap, cpu, "free");
    HeapCpuClass& slot = cache->classes[index];
    uint32_t capacity = heap.state->classes[index].magazine_capacity;
    HeapMagazine* loaded = magazine_at(slot.loaded);
    if (loaded != nullptr && loaded->count < capacity) {
        push(loaded, address);  // the fast path
    } else if (!ensure_magazines(heap, slot)) {
        put_in_slab(heap, index, slab, address, true);
    } else {
        if (magazine_at(slot.previous)->count < capacity) {
            swap_magazines(slot);
        } else {
            make_room(heap, slot, index);
        }
        push(magazine_at(slot.loaded), address);
    }
    if (slot.loaded != 0) bump_owned(slot.frees);
    leave_cache(*cache);
    return Status::ok();
}

Status reclaim(const Heap& heap, uint32_t cpu, uint64_t* released_bytes) {
    HeapState& state = *heap.state;
    *released_bytes = 0;
    HeapCpuCache* cache = existing_cpu_cache(state, cpu);  // reclaim makes no cache
    if (cache != nullptr && !enter_cache(*cache)) return refuse_busy(heap, cpu, "reclaim");
    for (uint32_t index = 0; index < kClassCount; ++index) {
        HeapClassDepot& depot = state.classes[index];
        SlabChain chain;
        uint64_t spare_magazines = 0;  // depot magazines, back to the pool after unlocking
        {
            SpinGuard guard(depot.lock);
            if (cache != nullptr && cache->classes[index].loaded != 0) {
                drain(state, depot, magazine_at(cache->classes[index].loaded), UINT32_MAX, chain);
                drain(state, depot, magazine_at(cache->classes[index].previous), UINT32_MAX, chain);
            }
            while (HeapMagazine* full = pop_list(depot.full_magazines)) {
                drain(state, depot, full, UINT32_MAX, chain);
                push_list(spare_magazines, full);
            }
            while (HeapMagazine* empty = pop_list(depot.empty_magazines)) {
                push_list(spare_magazines, empty);
            }
            depot.full_magazine_count = 0;
            depot.empty_magazine_count = 0;
            depot.depot_objects = 0;
            slab_take_all_empty(depot, chain);
        }
        *released_bytes += chain.bytes;
        release_slabs(heap, chain);
        while (HeapMagazine* magazine = pop_list(spare_magazines)) {
            return_magazine(heap, magazine);
        }
    }
    if (cache != nullptr) leave_cache(*cache);
    return Status::ok();
}

}  // namespace umka::heap
