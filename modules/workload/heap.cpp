// `heap`: the kernel heap module's size classes and totals (memory.Heap statistics) and the
// nucleus's own share of them; `heap exercise N`: N allocate+free pairs of mixed sizes
// through nucleus_mechanism.HeapCalls, every object written and checked.
#include "umka/kabi/memory.hpp"
#include "umka/kabi/nucleus_mechanism.hpp"
#include "workload.h"

namespace umka::workload {
namespace {

namespace memory = umka::kabi::memory;
namespace mechanism = umka::kabi::nucleus_mechanism;

constexpr char kHeapPackage[] = "memory";
constexpr char kHeapInterface[] = "Heap";
constexpr char kMechanism[] = "nucleus_mechanism";
constexpr char kHeapCalls[] = "HeapCalls";

void print_classes(Command& command, const memory::HeapRef& heap) {
    Output& out = command.out;
    out.add("class  size  per-slab  slabs-KiB  allocations      frees   live  cached\n");
    uint32_t classes = heap.class_count();
    for (uint32_t index = 0; index < classes; ++index) {
        memory::HeapClassStatistics statistics{};
        if (heap.class_statistics(index, &statistics).is_error()) continue;
        out.number(index, 5).add(" ").number(statistics.object_size, 5).add(" ");
        out.number(statistics.objects_per_slab, 9).add(" ");
        out.number(statistics.slabs * statistics.slab_bytes / 1024, 10).add(" ");
        out.number(statistics.allocations, 12).add(" ").number(statistics.frees, 10).add(" ");
        out.number(statistics.live_objects, 6).add(" ").number(statistics.cached_objects, 7);
        out.add("\n");
    }
    memory::HeapStatistics totals{};
    if (heap.statistics(&totals).is_ok()) {
        out.add("large: ").number(totals.large_allocations).add(" live (");
        out.number(totals.large_bytes / 1024).add(" KiB); slabs ").number(totals.slab_bytes / 1024);
        out.add(" KiB; metadata ").number(totals.metadata_bytes / 1024).add(" KiB; ");
        out.number(totals.cpu_caches).add(" CPU caches\n");
    }
}

void print_nucleus_share(Command& command, const mechanism::HeapCallsRef& calls) {
    mechanism::NucleusHeapShare share{};
    if (calls.nucleus_share(&share).is_error()) return;
    command.out.add("nucleus objects: ")
        .number(share.class_allocations)
        .add(" class allocations, ");
    command.out.number(share.class_frees).add(" class frees, ").number(share.large_live);
    command.out.add(" large live\n");
}

// Sizes cycle through every class and into large allocations.
uint64_t exercise_size(uint64_t round) {
    static constexpr uint64_t kSizes[] = {8, 24, 40, 100, 200, 500, 1000, 2000, 3000, 9000};
    return kSizes[round % (sizeof kSizes / sizeof kSizes[0])];
}

Status exercise(Command& command, const mechanism::HeapCallsRef& calls, uint64_t count) {
    constexpr uint64_t kBatch = 64;  // live at once: frees interleave with allocations
    uint64_t addresses[kBatch] = {};
    uint32_t cpu = command.threads.current_cpu();
    uint64_t failures = 0, corrupted = 0, done = 0;
    Interrupt interrupt(command.directory, command.clock);
    bool interrupted = false;
    uint64_t start = command.clock.now_ns();
    for (; done < count; ++done) {
        if (done % 256 == 0 && interrupt.poll()) {
            interrupted = true;
            break;
        }
        uint64_t& held = addresses[done % kBatch];
        if (held != 0) {
            // Check the pattern written at allocation, then free.
            if (*reinterpret_cast<volatile uint8_t*>(held) != uint8_t(held >> 4)) ++corrupted;
            if (calls.free(held).is_error()) ++failures;
            held = 0;
        }
        uint64_t address = 0;
        if (calls.allocate(exercise_size(done), &address).is_error()) {
            ++failures;
            continue;
        }
        *reinterpret_cast<volatile uint8_t*>(address) = uint8_t(address >> 4);
        held = address;
    }
    for (uint64_t& held : addresses) {
        if (held != 0 && calls.free(held).is_error()) ++failures;
    }
    uint64_t elapsed = command.clock.now_ns() - start;
    command.out.add("heap exercise: ").number(done).add(" allocate+free pairs on cpu ");
    command.out.number(cpu).add(", ").number(failures).add(" failures, ").number(corrupted);
    command.out.add(" corrupted, ").number(done != 0 ? elapsed / done : 0).add(" ns per pair\n");
    if (interrupted) {
        command.out.add("interrupted\n");
        return UMKA_KABI_ECANCELED;
    }
    return Status::ok();
}

}  // namespace

Status heap_command(Command& command) {
    bool exercising = command.word_count == 2 && same_text(command.words[0], "exercise");
    if (command.word_count != 0 && !exercising) {
        command.out.add("usage: heap | heap exercise N   (N: 1 to 1000000)\n");
        return UMKA_KABI_EINVAL;
    }
    uint64_t count = 0;
    if (exercising && !parse_count(command.out, "heap exercise", "N", command.words[1], 1,
                                   kMaximumExercisePairs, &count)) {
        return UMKA_KABI_EINVAL;
    }
    memory::HeapRef heap;
    if (!find_service(command.directory, kHeapPackage, sizeof kHeapPackage - 1, kHeapInterface,
                      sizeof kHeapInterface - 1, 1, &heap)) {
        command.out.add("heap: no module provides memory.Heap (see 'mods')\n");
        return kNoProvider;
    }
    mechanism::HeapCallsRef calls;
    if (!find_service(command.directory, kMechanism, sizeof kMechanism - 1, kHeapCalls,
                      sizeof kHeapCalls - 1, 1, &calls)) {
        command.out.add("heap: the nucleus publishes no nucleus_mechanism.HeapCalls\n");
        return kNoProvider;
    }
    if (exercising) return exercise(command, calls, count);
    print_classes(command, heap);
    print_nucleus_share(command, calls);
    return Status::ok();
}

}  // namespace umka::workload
