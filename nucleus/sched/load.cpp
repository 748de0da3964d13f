#include "nucleus/sched/load.h"

#include <arch/cpu.h>

#include <atomic>
#include <new>

#include "nucleus/loader/module_system.h"
#include "nucleus/loader/object_memory.h"
#include "nucleus/loader/ring_bindings.h"
#include "nucleus/sched/marker_writer.h"
#include "nucleus/sched/scheduler.h"
#include "nucleus/smp/cpu_table.h"
#include "nucleus/lib/format.h"
#include "nucleus/lib/log.h"
#include "nucleus/lib/status.h"
#include "umka/kabi/char_device.hpp"

namespace umka::sched {
namespace {

enum class LoadState : uint8_t { Idle, Running, Stopping };

// One counter per workload thread and one per CPU, each on its own cache line so the
// counting threads do not share lines.
struct alignas(64) Counter {
    std::atomic<uint64_t> value;
};

struct Workload {
    LoadState state;
    uint32_t thread_count;
    std::atomic<uint32_t> running_threads;
    Counter* per_thread;  // thread_count entries
    Counter* per_cpu;     // cpu_table().count() entries
    // `load start ring` and `serial`: each thread's own binding, created at start, closed
    // at stop.
    loader::RingBinding** ring_bindings;
    uint32_t ring_binding_count;
    // `load start serial`: one writer per thread (thread_count entries), kept after stop
    // for `load stats` until the next workload starts.
    MarkerWriter* marker_writers;
    uint32_t marker_writer_count;
};

constinit Workload workload{};
// `load stop` waits here until the last workload thread has left.
constinit WaitQueue threads_finished;

void leave() {
    if (workload.running_threads.fetch_sub(1, std::memory_order_acq_rel) == 1) threads_finished.wake_all();
}

bool all_left(void*) { return workload.running_threads.load(std::memory_order_acquire) == 0; }

bool still_running() { return __atomic_load_n(&workload.state, __ATOMIC_ACQUIRE) == LoadState::Running; }

// One unit of progress, on the thread's counter and on this CPU's.
void count_progress(Counter& mine) {
    mine.value.fetch_add(1, std::memory_order_relaxed);
    workload.per_cpu[arch::current_cpu_index()].value.fetch_add(1, std::memory_order_relaxed);
}

int32_t count_forever(uint64_t argument) {
    Counter& mine = workload.per_thread[argument];
    while (still_running()) {
        count_progress(mine);
    }
    leave();
    return 0;
}

// Sleeps 10 ms between counts: exercises blocking, timer wake-ups and wake-up placement.
int32_t sleep_and_count(uint64_t argument) {
    Counter& mine = workload.per_thread[argument];
    while (still_running()) {
        sleep_ns(10000000);
        count_progress(mine);
    }
    leave();
    return 0;
}

// Allocation churn through the heap module: allocate a few objects of varied sizes, write
// them, check and free them. A failed or corrupted allocation stops the count for good.
int32_t churn_forever(uint64_t argument) {
    Counter& mine = workload.per_thread[argument];
    static constexpr uint64_t kSizes[] = {16, 48, 130, 512, 1500, 5000};
    uint64_t round = 0;
    while (still_running()) {
        uint64_t address = 0;
        uint64_t size = kSizes[round++ % (sizeof kSizes / sizeof kSizes[0])];
        Status allocated = loader::heap_allocate(size, &address);
        if (allocated.is_error()) {
            log("load: heap-load%u stopped: allocating %lu bytes failed (%s)\n", unsigned(uintptr_t(argument)),
                size, errno_name(allocated.error()));
            break;
        }
        __builtin_memset(reinterpret_cast<void*>(address), int(round & 0xFF), size);
        bool intact = *reinterpret_cast<volatile uint8_t*>(address + size - 1) == uint8_t(round & 0xFF);
        Status freed = loader::heap_free(address);
        if (freed.is_error() || !intact) {
            log("load: heap-load%u stopped: %lu bytes at 0x%lx %s\n", unsigned(uintptr_t(argument)), size,
                address, freed.is_error() ? errno_name(freed.error()) : "were overwritten");
            break;
        }
        count_progress(mine);
    }
    leave();
    return 0;
}

// Calls CharDevice.info (no side effect) over this thread's own ring binding, as a
// consumer module would: through the binding's slot, the adapter vtable and the ring.
int32_t call_over_ring(uint64_t index) {
    Counter& mine = workload.per_thread[index];
    const UmkaServiceSlot* slot = &workload.ring_bindings[index]->slot;
    umka::kabi::char_device::CharDeviceInfo info{};
    while (still_running()) {
        umka::kabi::char_device::CharDeviceRef device;
        if (umka::kabi::bind_service(slot, &device).is_error() || device.info(&info).is_error()) break;
        count_progress(mine);
    }
    leave();
    return 0;
}

// Keeps kQueuedWrites marker writes queued on this thread's binding until `load stop`,
// then waits for the last completions so the count covers every byte the driver wrote.
int32_t write_markers(uint64_t index) {
    Counter& mine = workload.per_thread[index];
    MarkerWriter& writer = workload.marker_writers[index];
    while (still_running()) {
        if (writer.step().is_error()) break;
        mine.value.store(writer.writes(), std::memory_order_relaxed);
        workload.per_cpu[arch::current_cpu_index()].value.fetch_add(1, std::memory_order_relaxed);
    }
    Status finished = writer.finish();
    mine.value.store(writer.writes(), std::memory_order_relaxed);
    if (finished.is_error()) {
        log("load: serial-load%02u stopped: %s after %lu marker bytes\n", unsigned(index),
            errno_name(finished.error()), writer.bytes());
    }
    leave();
    return 0;
}

void free_marker_writers() {
    if (workload.marker_writers != nullptr) {
        for (uint32_t index = 0; index < workload.marker_writer_count; ++index) {
            workload.marker_writers[index].~MarkerWriter();
        }
        loader::free_object(workload.marker_writers);
    }
    workload.marker_writers = nullptr;
    workload.marker_writer_count = 0;
}

bool create_marker_writers(uint32_t count, console::TextOutput& out) {
    free_marker_writers();
    Result<void*> memory = loader::allocate_object(count * sizeof(MarkerWriter));
    if (memory.is_error()) {
        out.print("load: no memory for %u serial writers\n", count);
        return false;
    }
    workload.marker_writers = static_cast<MarkerWriter*>(memory.value());
    for (uint32_t index = 0; index < count; ++index) {
        new (&workload.marker_writers[index]) MarkerWriter();
    }
    workload.marker_writer_count = count;
    return true;
}

void print_marker_bytes(console::TextOutput& out) {
    if (workload.marker_writer_count == 0) return;
    uint64_t total = 0;
    for (uint32_t index = 0; index < workload.marker_writer_count; ++index) {
        const MarkerWriter& writer = workload.marker_writers[index];
        total += writer.bytes();
        out.print("  serial writer %2u: %lu marker bytes in %lu writes", index, writer.bytes(),
                  writer.writes());
        if (writer.failure().is_error()) {
            out.print(", stopped: %s", errno_name(writer.failure().error()));
        }
        out.print("\n");
    }
    out.print("load: %lu marker bytes (0x%02x) written by %u serial writers\n", total,
              unsigned(kMarkerByte), workload.marker_writer_count);
}

void close_ring_bindings() {
    for (uint32_t index = 0; index < workload.ring_binding_count; ++index) {
        loader::close_ring_binding(workload.ring_bindings[index]);
    }
    loader::free_object(workload.ring_bindings);
    workload.ring_bindings = nullptr;
    workload.ring_binding_count = 0;
}

// One binding to the serial driver's CharDevice per thread, each with its provider thread;
// with `writers`, each binding sends its completions to that thread's writer.
bool open_ring_bindings(uint32_t count, const char* prefix, MarkerWriter* writers,
                        console::TextOutput& out) {
    Result<void*> memory = loader::allocate_object(count * sizeof(loader::RingBinding*));
    if (memory.is_error()) {
        out.print("load: no memory for %u ring bindings\n", count);
        return false;
    }
    workload.ring_bindings = static_cast<loader::RingBinding**>(memory.value());
    workload.ring_binding_count = 0;
    for (uint32_t index = 0; index < count; ++index) {
        char name[24];
        format(name, sizeof name, "%s%02u", prefix, index % 100);
        ring::CompletionHandler completions =
            writers != nullptr ? writers[index].completion_handler() : ring::CompletionHandler{};
        Result<loader::RingBinding*> binding =
            loader::create_ring_binding({name, "char_device", "CharDevice", nullptr, completions});
        if (binding.is_ok() && writers != nullptr) {
            writers[index].attach(&binding.value()->caller.asynchronous_caller());
        }
        Status started = binding.is_ok()
                             ? loader::start_ring_binding(*binding.value(), Placement::Anywhere, 0)
                             : Status(binding.error());
        if (binding.is_ok()) workload.ring_bindings[workload.ring_binding_count++] = binding.value();
        if (started.is_error()) {
            out.print("load: ring binding %u to char_device.CharDevice failed (%s)\n", index,
                      errno_name(started.error()));
            close_ring_bindings();
            return false;
        }
    }
    return true;
}

uint32_t parse_count(const char* text) {
    uint32_t value = 0;
    while (*text >= '0' && *text <= '9') value = value * 10 + uint32_t(*text++ - '0');
    return *text == '\0' ? value : 0;
}

void start(const char* arguments, console::TextOutput& out) {
    static constexpr char kCpu[] = "cpu ";
    static constexpr char kAlloc[] = "alloc ";
    static constexpr char kSleep[] = "sleep ";
    static constexpr char kRing[] = "ring ";
    static constexpr char kSerial[] = "serial ";
    TaskEntry entry = nullptr;
    const char* kind = nullptr;
    const char* number = nullptr;
    if (__builtin_memcmp(arguments, kCpu, sizeof kCpu - 1) == 0) {
        entry = count_forever;
        kind = "counting";
        number = arguments + sizeof kCpu - 1;
    } else if (__builtin_memcmp(arguments, kAlloc, sizeof kAlloc - 1) == 0) {
        if (!loader::heap_available()) {
            out.print("load: no module provides memory.Heap\n");
            return;
        }
        entry = churn_forever;
        kind = "allocating";
        number = arguments + sizeof kAlloc - 1;
    } else if (__builtin_memcmp(arguments, kSleep, sizeof kSleep - 1) == 0) {
        entry = sleep_and_count;
        kind = "sleeping";
        number = arguments + sizeof kSleep - 1;
    } else if (__builtin_memcmp(arguments, kRing, sizeof kRing - 1) == 0) {
        entry = call_over_ring;
        kind = "ring-calling";
        number = arguments + sizeof kRing - 1;
    } else if (__builtin_memcmp(arguments, kSerial, sizeof kSerial - 1) == 0) {
        entry = write_markers;
        kind = "serial-writing";
        number = arguments + sizeof kSerial - 1;
    } else {
        out.print("usage: load start cpu N | load start alloc N | load start sleep N | "
                  "load start ring N | load start serial N\n");
        return;
    }
    uint32_t count = parse_count(number);
    if (count == 0) {
        out.print("load: N must be a positive number\n");
        return;
    }
    if (workload.state != LoadState::Idle) {
        out.print("load: a workload is running; 'load stop' first\n");
        return;
    }
    // The last workload's counters stay readable (`load stats`) until the next one starts.
    loader::free_object(workload.per_thread);
    loader::free_object(workload.per_cpu);
    workload.per_thread = workload.per_cpu = nullptr;
    workload.thread_count = 0;
    Result<void*> threads = loader::allocate_object(count * sizeof(Counter));
    Result<void*> cpus = loader::allocate_object(cpu_table().count() * sizeof(Counter));
    if (threads.is_error() || cpus.is_error()) {
        if (threads.is_ok()) loader::free_object(threads.value());
        if (cpus.is_ok()) loader::free_object(cpus.value());
        out.print("load: no memory for %u counters\n", count);
        return;
    }
    if (entry == call_over_ring && !open_ring_bindings(count, "ring-load-", nullptr, out)) return;
    if (entry == write_markers) {
        if (!create_marker_writers(count, out)) return;
        if (!open_ring_bindings(count, "serial-load-", workload.marker_writers, out)) {
            free_marker_writers();
            return;
        }
    } else {
        free_marker_writers();  // a finished serial workload's counts go with the next one
    }
    workload.per_thread = static_cast<Counter*>(threads.value());
    workload.per_cpu = static_cast<Counter*>(cpus.value());
    workload.thread_count = 0;
    __atomic_store_n(&workload.state, LoadState::Running, __ATOMIC_RELEASE);
    for (uint32_t index = 0; index < count; ++index) {
        char name[24] = "cpu-load-";
        if (entry == churn_forever) __builtin_memcpy(name, "heap-load", 9);
        if (entry == sleep_and_count) __builtin_memcpy(name, "nap-load-", 9);
        if (entry == call_over_ring) __builtin_memcpy(name, "ring-call", 9);
        if (entry == write_markers) __builtin_memcpy(name, "serial-wr", 9);
        name[9] = char('0' + index / 10 % 10);
        name[10] = char('0' + index % 10);
        workload.running_threads.fetch_add(1, std::memory_order_acq_rel);
        Result<Task*> task = spawn(name, entry, uint64_t(index),
                                   0, Placement::Anywhere, 0);
        if (task.is_error()) {
            leave();
            out.print("load: thread %u not started (%s)\n", index, errno_name(task.error()));
            break;
        }
        ++workload.thread_count;
    }
    out.print("load: %u %s threads started\n", workload.thread_count, kind);
}

void stats(console::TextOutput& out) {
    if (workload.per_thread == nullptr) {
        out.print("load: no workload has run\n");
        return;
    }
    out.print("load: %u threads, %u still running\n", workload.thread_count,
              workload.running_threads.load(std::memory_order_acquire));
    for (uint32_t index = 0; index < workload.thread_count; ++index) {
        out.print("  thread %2u: %lu\n", index, workload.per_thread[index].value.load(std::memory_order_relaxed));
    }
    for (uint32_t index = 0; index < cpu_table().count(); ++index) {
        out.print("  cpu %u: %lu\n", index, workload.per_cpu[index].value.load(std::memory_order_relaxed));
    }
    print_marker_bytes(out);
}

void stop(console::TextOutput& out) {
    if (workload.state != LoadState::Running) {
        out.print("load: nothing running\n");
        return;
    }
    __atomic_store_n(&workload.state, LoadState::Stopping, __ATOMIC_RELEASE);
    // The threads see the flag within a slice (or a nap) and leave; the last one wakes us.
    threads_finished.wait(all_left, nullptr);
    uint32_t ring_bindings = workload.ring_binding_count;
    close_ring_bindings();
    __atomic_store_n(&workload.state, LoadState::Idle, __ATOMIC_RELEASE);
    out.print("load: stopped %u threads", workload.thread_count);
    if (ring_bindings != 0) out.print(", closed %u ring bindings", ring_bindings);
    out.print("\n");
    print_marker_bytes(out);
}

std::atomic<uint32_t> ping_pong_left{0};

int32_t yield_back(uint64_t rounds) {
    for (uint64_t round = 0; round < rounds; ++round) yield();
    ping_pong_left.store(0, std::memory_order_release);
    return 0;
}

}  // namespace

// Two threads on CPU 0 yielding to each other: each yield is one switch (EEVDF picks the
// other, equally weighted thread). Baseline in the same run: the cost of the loop of
// yields with no other thread to switch to (policy calls, no switch).
void measure_switch(uint64_t rounds, console::TextOutput& out) {
    if (!running()) {
        out.print("measure: no scheduler policy module is loaded\n");
        return;
    }
    uint64_t start = arch::read_cycle_counter();
    for (uint64_t round = 0; round < rounds; ++round) yield();
    uint64_t alone = arch::read_cycle_counter() - start;
    ping_pong_left.store(1, std::memory_order_release);
    Result<Task*> partner = spawn("yield-partner", yield_back, rounds,
                                  0, Placement::Pinned, 0);
    if (partner.is_error()) {
        out.print("measure: could not start the partner thread (%s)\n", errno_name(partner.error()));
        return;
    }
    start = arch::read_cycle_counter();
    uint64_t switches_before = partner.value()->switches;
    while (ping_pong_left.load(std::memory_order_acquire) != 0) yield();
    uint64_t together = arch::read_cycle_counter() - start;
    uint64_t switches = 2 * (partner.value()->switches - switches_before);
    out.print("context switch: %lu cycles per switch (yield + pick + switch, %lu switches); "
              "yield without a switch: %lu cycles; ratio %lu.%02lux\n",
              switches ? together / switches : 0, switches, alone / rounds,
              alone ? (together / (switches ? switches : 1)) * rounds / alone : 0,
              alone ? (together / (switches ? switches : 1)) * rounds * 100 / alone % 100 : 0);
}

void load_command(const char* arguments, console::TextOutput& out) {
    if (!running()) {
        out.print("load: no scheduler policy module is loaded\n");
        return;
    }
    static constexpr char kStart[] = "start ";
    if (__builtin_memcmp(arguments, kStart, sizeof kStart - 1) == 0) {
        start(arguments + sizeof kStart - 1, out);
    } else if (__builtin_strcmp(arguments, "stats") == 0) {
        stats(out);
    } else if (__builtin_strcmp(arguments, "stop") == 0) {
        stop(out);
    } else {
        out.print("usage: load start cpu|alloc|sleep|ring|serial N | load stats | load stop\n");
    }
}

}  // namespace umka::sched
