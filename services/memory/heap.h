// The kernel heap module (kernel_heap, kabi-idl/modules/memory_service.kabi): what its
// parts share. The module is stateless code: every byte it remembers is in HeapState (its
// state region) or in kernel_services.ModuleMemory regions it obtained, laid out as the
// Heap* structs of memory_service.kabi (layout version 1). README.md explains the design.
//
// Concurrency rules every part follows:
//  * A CPU's HeapCpuCache is touched only by calls naming that CPU (the caller runs them on
//    that CPU with preemption disabled, one at a time); other CPUs only read its counters
//    for statistics, with relaxed atomic loads.
//  * Each class's depot and slabs are under that class's spinlock; the metadata pool, the
//    page map's nodes and the CPU directory are under HeapState.pool_lock.
//  * No two heap locks are ever held at once, and no heap lock is held while calling the
//    nucleus (ModuleMemory, Log): the nucleus may then use the heap under its own locks
//    without a lock-order cycle.
//  * Readers that take no lock (page map lookups, CPU directory) see only memory that was
//    fully written before a release store published its address.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "umka/kabi/kernel_services.hpp"
#include "umka/kabi/memory.hpp"
#include "umka/kabi/memory_service.hpp"
#include "umka/kabi/memory_service_state.hpp"
#include "umka/module_entry.h"

namespace umka::heap {

namespace services = umka::kabi::kernel_services;
namespace memory = umka::kabi::memory;
namespace layout = umka::kabi::memory_service;
using umka::kabi::Status;
using layout::HeapClassDepot;
using layout::HeapCpuCache;
using layout::HeapCpuClass;
using layout::HeapCpuDirectory;
using layout::HeapLargeAllocation;
using layout::HeapMagazine;
using layout::HeapSlab;
using layout::HeapState;

// Manifest order of module kernel_heap.
enum Required : uint32_t { kLog = 0, kModuleMemory = 1, kRequiredCount = 2 };
enum Provided : uint32_t { kHeap = 0, kProvidedCount = 1 };
constexpr uint32_t kStateCount = 1;

constexpr uint32_t kLayoutVersion = 1;
constexpr uint64_t kPageSize = 4096;
constexpr uint32_t kPageShift = 12;
constexpr uint32_t kSlabMagic = 0x42414c53;   // "SLAB"
constexpr uint32_t kLargeMagic = 0x4752414c;  // "LARG"
constexpr uint32_t kMagazineRounds = sizeof(HeapMagazine::rounds) / sizeof(uint64_t);
constexpr uint32_t kClassCount = sizeof(HeapState::classes) / sizeof(HeapClassDepot);
static_assert(sizeof(HeapCpuCache::classes) / sizeof(HeapCpuClass) == kClassCount,
              "a CPU cache has one entry per class");

// --- atomics on the plain integer fields of the layout structs ---------------------------
template <typename T>
inline T load_relaxed(const T& field) {
    return __atomic_load_n(&field, __ATOMIC_RELAXED);
}
template <typename T>
inline T load_acquire(const T& field) {
    return __atomic_load_n(&field, __ATOMIC_ACQUIRE);
}
template <typename T>
inline void store_relaxed(T& field, T value) {
    __atomic_store_n(&field, value, __ATOMIC_RELAXED);
}
template <typename T>
inline void store_release(T& field, T value) {
    __atomic_store_n(&field, value, __ATOMIC_RELEASE);
}
template <typename T>
inline void add_relaxed(T& field, T value) {
    __atomic_fetch_add(&field, value, __ATOMIC_RELAXED);
}
template <typename T>
inline void subtract_relaxed(T& field, T value) {
    __atomic_fetch_sub(&field, value, __ATOMIC_RELAXED);
}
// Writes from another CPU may land between these; a counter one CPU owns is bumped with
// a relaxed load and store (no locked instruction on the fast path).
template <typename T>
inline void bump_owned(T& field) {
    store_relaxed(field, T(load_relaxed(field) + 1));
}

template <typename T>
inline T* at(uint64_t address) {
    return reinterpret_cast<T*>(address);
}
template <typename T>
inline uint64_t address_of(const T* pointer) {
    return reinterpret_cast<uint64_t>(pointer);
}

// A test-and-test-and-set spinlock on a u32 of nucleus memory (0 free, 1 held). There is
// no scheduler to sleep on; critical sections are a few list operations long.
class SpinGuard {
public:
    explicit SpinGuard(uint32_t& word) : word_(word) {
        while (__atomic_exchange_n(&word_, 1u, __ATOMIC_ACQUIRE) != 0) {
            while (load_relaxed(word_) != 0) __builtin_ia32_pause();
        }
    }
    ~SpinGuard() { store_release(word_, 0u); }
    SpinGuard(const SpinGuard&) = delete;
    SpinGuard& operator=(const SpinGuard&) = delete;

private:
    uint32_t& word_;
};

// What every call works with: the binding (services) and the state it holds.
struct Heap {
    const UmkaModuleBinding* binding;
    HeapState* state;
};

inline Heap heap_of(void* context) {
    const UmkaModuleBinding* binding = umka::kabi::binding_of(context);
    // umka_module_entry refused the binding unless the state region is there and large.
    return Heap{binding, umka::kabi::module_state<HeapState>(binding)};
}

// --- size classes (size_classes.cpp) -----------------------------------------------------
struct ClassShape {
    uint32_t object_size;
    uint32_t slab_bytes;
    uint32_t objects_per_slab;
    uint32_t magazine_capacity;
    uint32_t reciprocal;  // ceil(2^32 / object_size): offset / size without a divide
};
// The shape of class `index` (< kClassCount) as this code lays it out.
ClassShape class_shape(uint32_t index);
constexpr uint32_t kNoClass = 0xFFFFFFFF;
// Smallest class holding `size` bytes at `alignment` (a power of two), or kNoClass when
// the request is for whole pages.
uint32_t class_for(uint64_t size, uint64_t alignment);
// Index of the object at `offset` bytes into a slab of class `index`, or kNoObject if
// `offset` is not the start of an object there.
constexpr uint32_t kNoObject = 0xFFFFFFFF;
uint32_t object_index(uint32_t index, uint64_t offset);
// Writes the class table into a fresh state; checks a carried one against it (false and
// the first difference in *mismatch_class when they differ).
void set_up_classes(HeapState& state);
bool classes_match(const HeapState& state, uint32_t* mismatch_class);

// --- log lines (regions.cpp) -------------------------------------------------------------
class LineText {
public:
    LineText& text(const char* text);
    LineText& number(uint64_t value);
    LineText& hex(uint64_t value);
    const char* data() const { return text_; }
    uint64_t length() const { return length_; }

private:
    char text_[160];
    uint64_t length_ = 0;
};
void log_line(const Heap& heap, services::LogLevel level, const LineText& line);

// --- regions from the nucleus (regions.cpp) ----------------------------------------------
struct Region {
    services::MemoryRegion handle;
    uint64_t address;
    uint64_t length;
};
// A page-aligned region of at least `length` bytes, counted in HeapState.regions. ENOMEM
// when the nucleus has none (or breaks the ModuleMemory contract, which is logged).
Status obtain_region(const Heap& heap, uint64_t length, services::MemoryFlags flags, Region* out);
// Gives a region back; a refusal is counted in release_failures and logged, the region is
// then lost to the heap (never reused: its memory may be gone).
void give_back_region(const Heap& heap, services::MemoryRegion handle, const char* what);

// --- metadata pool (regions.cpp): magazines and large-allocation records ------------------
HeapMagazine* take_magazine(const Heap& heap);  // an empty magazine, or nullptr (ENOMEM)
void return_magazine(const Heap& heap, HeapMagazine* magazine);
HeapLargeAllocation* take_large_record(const Heap& heap);
void return_large_record(const Heap& heap, HeapLargeAllocation* record);

// --- page map (page_map.cpp) -------------------------------------------------------------
constexpr uint64_t kLargeTag = 1;  // low bit of an entry naming a HeapLargeAllocation
// The entry of the page holding `address`, 0 when the heap owns no such page.
uint64_t page_map_lookup(const HeapState& state, uint64_t address);
// Sets the entries of `pages` pages from `address` (page aligned) to `entry`, making
// nodes as needed; ENOMEM (and every entry set so far cleared) when a node cannot be made.
Status page_map_set(const Heap& heap, uint64_t address, uint64_t pages, uint64_t entry);
void page_map_clear(HeapState& state, uint64_t address, uint64_t pages);
// Clears the entry of `address`'s page if it is `expected`; false when it was not (another
// free took it first).
bool page_map_take(HeapState& state, uint64_t address, uint64_t expected);

// --- slabs (slabs.cpp); the class lock is held unless a function says otherwise ----------
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
// The slab named by page map `entry` (not a large one) if `address` is the start of an
// object of it that was handed out at some time; nullptr otherwise.
HeapSlab* checked_slab(uint64_t entry, uint64_t address);
// The slab of an object known to be valid (one taken from a magazine).
inline HeapSlab* slab_of_object(const HeapState& state, uint64_t object) {
    return at<HeapSlab>(page_map_lookup(state, object));
}
// Empty slabs a class keeps before further empty ones go back to the nucleus: 64 KiB
// worth (at least one), so a class whose live count swings does not trade slabs with the
// nucleus on every swing, while a burst's memory still goes back (reclaim takes all).
constexpr uint32_t kRetainedEmptyBytes = 65536;
inline uint32_t retained_empty_slabs(const HeapClassDepot& depot) {
    uint32_t slabs = kRetainedEmptyBytes / depot.slab_bytes;
    return slabs == 0 ? 1 : slabs;
}

// --- magazines and CPU caches (magazines.cpp) --------------------------------------------
// `*address` is an object of class `index`; ENOMEM or EBUSY otherwise.
Status allocate_small(const Heap& heap, uint32_t cpu, uint32_t index, uint64_t* address);
// `slab` holds object `address` of class slab->class_index (already checked).
Status free_small(const Heap& heap, uint32_t cpu, HeapSlab* slab, uint64_t address);
// Empties `cpu`'s magazines and every depot into the slabs and gives back empty slabs.
Status reclaim(const Heap& heap, uint32_t cpu, uint64_t* released_bytes);
// The cache of `cpu` if it exists (statistics), nullptr otherwise.
HeapCpuCache* existing_cpu_cache(const HeapState& state, uint32_t cpu);
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

// --- large allocations (large.cpp) -------------------------------------------------------
Status allocate_large(const Heap& heap, uint64_t size, uint64_t alignment, uint64_t* address);
Status free_large(const Heap& heap, HeapLargeAllocation* record, uint64_t address);

}  // namespace umka::heap
