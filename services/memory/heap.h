// The kernel heap module (kernel_heap, kabi-idl/modules/memory_service.kabi): what its
// parts share. The module is stateless code: every byte it remembers is in HeapState (its
// state region) or in kernel_services.ModuleMemory regions it obtained, laid out as the
// Heap* structs of memory_service.kabi (layout version 1). README.md explains the design.
//
// The parts, by concept: size_classes.h, page_map.h, slabs.h, magazines.h (each with its
// .cpp), large.cpp, regions.cpp (memory from the nucleus, the metadata pool, log lines),
// heap_module.cpp (entry and vtable).
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
#include "umka/line_text.h"
#include "umka/module_entry.h"

namespace umka::heap {

namespace services = umka::kabi::kernel_services;
namespace memory = umka::kabi::memory;
namespace layout = umka::kabi::memory_service;
using layout::HeapClassDepot;
using layout::HeapCpuCache;
using layout::HeapCpuClass;
using layout::HeapCpuDirectory;
using layout::HeapLargeAllocation;
using layout::HeapMagazine;
using layout::HeapSlab;
using layout::HeapState;
using umka::kabi::Status;

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
    // umka_module_entry refused the binding unless state region 0 is there and large
    // enough, and the nucleus never changes a bound module's binding: no check per call.
    return Heap{binding, static_cast<HeapState*>(binding->states[0].base)};
}

// --- log lines (regions.cpp) -------------------------------------------------------------
using LineText = umka::LineText<160>;
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

// --- large allocations (large.cpp) -------------------------------------------------------
Status allocate_large(const Heap& heap, uint64_t size, uint64_t alignment, uint64_t* address);
Status free_large(const Heap& heap, HeapLargeAllocation* record, uint64_t address);

}  // namespace umka::heap
