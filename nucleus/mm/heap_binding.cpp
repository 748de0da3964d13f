// The kernel heap module (memory.Heap) for nucleus code and, through
// nucleus_mechanism.HeapCalls, for modules: each call runs on the caller's CPU with
// interrupts off, as the heap's contract asks.
#include <arch/cpu.h>

#include <atomic>

#include "nucleus/loader/module_system.h"
#include "nucleus/mm/object_memory.h"
#include "umka/kabi/memory.hpp"

namespace umka::loader {
namespace {

namespace memory = umka::kabi::memory;

// The slot is found by name once: slots are nucleus memory that never moves, so the hot
// path (load threads allocating) pays one acquire load per call, which also sees a swap.
constinit std::atomic<const UmkaServiceSlot*> heap_slot{nullptr};

bool bind_heap(memory::HeapRef& heap) {
    const UmkaServiceSlot* slot = heap_slot.load(std::memory_order_acquire);
    if (slot == nullptr && module_system().initialized()) {
        RecursiveSpinLockGuard guard(capability_writer_lock());
        slot = heap_slot.load(std::memory_order_acquire);
        Result<UmkaServiceSlot*> found = module_system().registry().find("memory", "Heap", nullptr);
        if (slot == nullptr && found.is_ok()) {
            // The nucleus is a consumer like any module: a live replacement must serve at
            // least the version this header needs (evolution's replacement rule).
            modules::Diagnostic ignored;
            (void)module_system().registry().bind(modules::kNucleusProviderName, 0, found.value(),
                                                  memory::HeapRef::interface_version, ignored);
            slot = found.value();
            heap_slot.store(slot, std::memory_order_release);
        }
    }
    return slot != nullptr && umka::kabi::bind_service(slot, &heap).is_ok();
}

}  // namespace

// The heap's contract: a call naming CPU n runs on CPU n and is not preempted (its per-CPU
// magazines have no lock). Interrupts off is how the nucleus keeps both. The slot is loaded
// inside the same interrupts-off section: a live swap's pause (docs/evolution.md) then
// never falls between finding the provider and calling it, so no call reaches a replaced
// instance's code or state.
namespace {

// Runs `call(heap)` on the bound heap inside one interrupts-off section; `unbound` when no
// module provides memory.Heap.
template <typename Answer, typename Call>
Answer with_heap(Answer unbound, Call call) {
    arch::InterruptState interrupts = arch::save_and_disable_interrupts();
    memory::HeapRef heap;
    Answer answer = bind_heap(heap) ? call(heap) : unbound;
    arch::restore_interrupts(interrupts);
    return answer;
}

constexpr umka::kabi::Status kNoHeap = UMKA_KABI_ENOENT;

Status to_status(umka::kabi::Status status) {
    return status.is_ok() ? Status::ok() : Status(Errno(status.code()));
}

umka::kabi::Status heap_allocate_now(uint64_t size, uint64_t* address, uint64_t alignment = 0) {
    return with_heap(kNoHeap, [&](const memory::HeapRef& heap) {
        return heap.allocate(arch::current_cpu_index(), size, alignment, address);
    });
}

umka::kabi::Status heap_free_now(uint64_t address) {
    return with_heap(kNoHeap, [&](const memory::HeapRef& heap) {
        return heap.free(arch::current_cpu_index(), address);
    });
}

}  // namespace

bool heap_available() {
    memory::HeapRef heap;
    return bind_heap(heap);
}

Status heap_allocate(uint64_t size, uint64_t* address) {
    return to_status(heap_allocate_now(size, address));
}

Status heap_free(uint64_t address) {
    return to_status(heap_free_now(address));
}

Status heap_allocate_aligned(uint64_t size, uint64_t alignment, uint64_t* address) {
    return to_status(heap_allocate_now(size, address, alignment));
}

Status heap_usable_size(uint64_t address, uint64_t* size) {
    return to_status(with_heap(
        kNoHeap, [&](const memory::HeapRef& heap) { return heap.usable_size(address, size); }));
}

HeapRelease heap_free_if_owned(uint64_t address, uint64_t* usable_size) {
    // One interrupts-off section: a swap of the heap cannot fall between the question and
    // the free (docs/evolution.md).
    return with_heap(HeapRelease::NotOwned, [&](const memory::HeapRef& heap) {
        if (heap.usable_size(address, usable_size).is_error()) return HeapRelease::NotOwned;
        return heap.free(arch::current_cpu_index(), address).is_ok() ? HeapRelease::Freed
                                                                     : HeapRelease::Refused;
    });
}

}  // namespace umka::loader
