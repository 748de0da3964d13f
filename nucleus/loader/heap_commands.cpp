// The console's view of the kernel heap module (memory.Heap): `heap` prints per size class
// usage; `heap exercise N` allocates and frees N objects of mixed sizes through the module on
// this CPU, checking every byte it wrote, and reports what changed.
#include <arch/cpu.h>

#include <atomic>

#include "nucleus/loader/module_system.h"
#include "nucleus/loader/object_memory.h"
#include "nucleus/time/clock.h"
#include "umka/kabi/memory.hpp"

namespace umka::loader {
namespace {

namespace memory = umka::kabi::memory;

// The slot is found by name once: slots are nucleus memory that never moves, so the hot
// path (load threads allocating) pays one acquire load per call, which also sees a swap.
constinit std::atomic<const UmkaServiceSlot*> heap_slot{nullptr};

bool bind_heap(memory::HeapRef& heap, console::TextOutput& out) {
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
    if (slot == nullptr || umka::kabi::bind_service(slot, &heap).is_error()) {
        out.print("heap: no module provides memory.Heap (see 'mods')\n");
        return false;
    }
    return true;
}

void print_classes(const memory::HeapRef& heap, console::TextOutput& out) {
    out.print("class  size  per-slab  slabs-KiB  allocations      frees   live  cached\n");
    uint32_t classes = heap.class_count();
    for (uint32_t index = 0; index < classes; ++index) {
        memory::HeapClassStatistics statistics{};
        if (heap.class_statistics(index, &statistics).is_error()) continue;
        out.print("%5u %5u %9u %10lu %12lu %10lu %6lu %7lu\n", index, statistics.object_size,
                  statistics.objects_per_slab, statistics.slabs * statistics.slab_bytes / 1024,
                  statistics.allocations, statistics.frees, statistics.live_objects,
                  statistics.cached_objects);
    }
    memory::HeapStatistics totals{};
    if (heap.statistics(&totals).is_ok()) {
        out.print("large: %lu live (%lu KiB); slabs %lu KiB; metadata %lu KiB; %u CPU caches\n",
                  totals.large_allocations, totals.large_bytes / 1024, totals.slab_bytes / 1024,
                  totals.metadata_bytes / 1024, totals.cpu_caches);
    }
}

// Sizes cycle through every class and into large allocations.
uint64_t exercise_size(uint64_t round) {
    static constexpr uint64_t kSizes[] = {8, 24, 40, 100, 200, 500, 1000, 2000, 3000, 9000};
    return kSizes[round % (sizeof kSizes / sizeof kSizes[0])];
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
    console::TextOutput discard(nullptr, 0);
    Answer answer = bind_heap(heap, discard) ? call(heap) : unbound;
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
    console::TextOutput discard(nullptr, 0);
    return bind_heap(heap, discard);
}

Status heap_allocate(uint64_t size, uint64_t* address) {
    return to_status(heap_allocate_now(size, address));
}

Status heap_free(uint64_t address) { return to_status(heap_free_now(address)); }

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

namespace {

void exercise(uint64_t count, console::TextOutput& out) {
    constexpr uint64_t kBatch = 64;  // live at once: frees interleave with allocations
    uint64_t addresses[kBatch] = {};
    uint32_t cpu = arch::current_cpu_index();
    uint64_t failures = 0, corrupted = 0;
    uint64_t start = arch::read_cycle_counter();
    for (uint64_t round = 0; round < count; ++round) {
        uint64_t& held = addresses[round % kBatch];
        if (held != 0) {
            // Check the pattern written at allocation, then free.
            uint8_t expected = uint8_t(held >> 4);
            if (*reinterpret_cast<volatile uint8_t*>(held) != expected) ++corrupted;
            if (heap_free_now(held).is_error()) ++failures;
            held = 0;
        }
        uint64_t address = 0;
        if (heap_allocate_now(exercise_size(round), &address).is_error()) {
            ++failures;
            continue;
        }
        *reinterpret_cast<volatile uint8_t*>(address) = uint8_t(address >> 4);
        held = address;
    }
    for (uint64_t& held : addresses) {
        if (held != 0 && heap_free_now(held).is_error()) ++failures;
    }
    uint64_t cycles = arch::read_cycle_counter() - start;
    out.print("heap exercise: %lu allocate+free pairs on cpu %u, %lu failures, %lu corrupted, "
              "%lu cycles per pair\n",
              count, cpu, failures, corrupted, count ? cycles / count : 0);
}

uint64_t parse_count(const char* text) {
    uint64_t value = 0;
    while (*text >= '0' && *text <= '9') value = value * 10 + uint64_t(*text++ - '0');
    return *text == '\0' ? value : 0;
}

}  // namespace

void heap_command(const char* arguments, console::TextOutput& out) {
    memory::HeapRef heap;
    if (!bind_heap(heap, out)) return;
    if (arguments[0] == '\0') {
        print_classes(heap, out);
        print_object_memory(out);
        return;
    }
    static constexpr char kExercise[] = "exercise ";
    if (__builtin_memcmp(arguments, kExercise, sizeof kExercise - 1) == 0) {
        uint64_t count = parse_count(arguments + sizeof kExercise - 1);
        if (count == 0) {
            out.print("usage: heap exercise N   (N > 0)\n");
            return;
        }
        exercise(count, out);
        return;
    }
    out.print("usage: heap | heap exercise N\n");
}

}  // namespace umka::loader
