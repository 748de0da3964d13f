// `load start cpu|alloc|sleep|ring|serial N`, `load stats`, `load stop`: workload threads
// whose counters prove that threads make progress and that a live swap under load loses
// nothing. The threads are this module's (kernel_services.Threads), joined by `load stop`;
// each reaches its LoadWorker record through its argument.
#include "umka/kabi/char_device.hpp"
#include "umka/kabi/nucleus_mechanism.hpp"
#include "workload.h"

namespace umka::workload {
namespace {

namespace chardev = umka::kabi::char_device;
namespace mechanism = umka::kabi::nucleus_mechanism;

enum class Phase : uint32_t { Idle = 0, Running = 1, Stopping = 2 };
enum class Kind : uint32_t { Cpu = 0, Alloc = 1, Sleep = 2, Ring = 3, Serial = 4 };

struct KindInfo {
    const char* word;
    const char* adjective;     // "load: N <adjective> threads started"
    const char* thread_name;   // + the thread's index
    const char* binding_name;  // ring kinds: + two digits
};

constexpr KindInfo kKinds[] = {
    {"cpu", "counting", "cpu-load-", nullptr},
    {"alloc", "allocating", "heap-load", nullptr},
    {"sleep", "sleeping", "nap-load-", nullptr},
    {"ring", "ring-calling", "ring-call", "ring-load-"},
    {"serial", "serial-writing", "serial-wr", "serial-load-"},
};

constexpr char kMarkerByte = '~';
constexpr uint64_t kMarkerWriteBytes = 32;
constexpr uint64_t kNapNs = 10000000;
// Nothing else prints a '~': the console's count of them must equal what the driver
// reported to the writers (test/qemu: evolve-serial-queued).
constexpr struct MarkerBytes {
    char bytes[kMarkerWriteBytes];
    constexpr MarkerBytes() : bytes() {
        for (char& byte : bytes) byte = kMarkerByte;
    }
} kMarkers;

bool ring_kind(Kind kind) {
    return kind == Kind::Ring || kind == Kind::Serial;
}

Phase phase_of(const State& state) {
    return Phase(__atomic_load_n(&state.load_phase, __ATOMIC_ACQUIRE));
}

void set_phase(State& state, Phase phase) {
    __atomic_store_n(&state.load_phase, uint32_t(phase), __ATOMIC_RELEASE);
}

// --- the workload threads ----------------------------------------------------------------

struct ThreadContext {
    Worker& worker;
    State& state;
    services::ThreadsRef threads;
};

void count_progress(ThreadContext& thread) {
    __atomic_fetch_add(&thread.worker.progress, 1, __ATOMIC_RELAXED);
    uint32_t cpu = thread.threads.current_cpu();
    if (cpu < thread.state.cpu_count) {
        __atomic_fetch_add(&thread.state.cpu_progress[cpu * 8], 1, __ATOMIC_RELAXED);
    }
}

void fail(ThreadContext& thread, int32_t code) {
    __atomic_store_n(&thread.worker.failure, code, __ATOMIC_RELAXED);
}

void log_stop(ThreadContext& thread, const char* what, uint64_t size, int32_t code) {
    services::LogRef log;
    const auto* binding = reinterpret_cast<const UmkaModuleBinding*>(thread.worker.binding);
    if (umka::kabi::bind_required(binding, kLog, &log).is_error()) return;
    char text[120];
    Output line(text, sizeof text);
    line.add("load: ").add(kKinds[thread.state.load_kind].thread_name);
    line.number(thread.worker.index).add(" stopped: ").add(what).add(" ").number(size);
    line.add(" bytes failed (").add(errno_name(code)).add(")");
    log.write(services::LogLevel::Error, text, line.length());
}

// Allocation churn through nucleus_mechanism.HeapCalls (memory.Heap on this CPU with
// interrupts off): allocate objects of varied sizes, write them, check and free them. A
// failed or corrupted allocation stops this thread for good.
void churn(ThreadContext& thread) {
    static constexpr uint64_t kSizes[] = {16, 48, 130, 512, 1500, 5000};
    const auto* slot = reinterpret_cast<const UmkaServiceSlot*>(thread.state.heap_calls_slot);
    uint64_t round = 0;
    while (phase_of(thread.state) == Phase::Running) {
        mechanism::HeapCallsRef heap;
        if (umka::kabi::bind_service(slot, &heap).is_error()) {
            fail(thread, UMKA_KABI_ENOENT);
            return;
        }
        uint64_t size = kSizes[round++ % (sizeof kSizes / sizeof kSizes[0])];
        uint64_t address = 0;
        Status allocated = heap.allocate(size, &address);
        if (allocated.is_error()) {
            log_stop(thread, "allocating", size, allocated.code());
            fail(thread, allocated.code());
            return;
        }
        auto* bytes = reinterpret_cast<volatile uint8_t*>(address);
        for (uint64_t index = 0; index < size; ++index) bytes[index] = uint8_t(round);
        bool intact = bytes[size - 1] == uint8_t(round) && bytes[0] == uint8_t(round);
        Status freed = heap.free(address);
        if (freed.is_error() || !intact) {
            int32_t code = freed.is_error() ? freed.code() : UMKA_KABI_EBADMSG;
            log_stop(thread, intact ? "freeing" : "checking", size, code);
            fail(thread, code);
            return;
        }
        count_progress(thread);
    }
}

// A call the driver crashed in is answered EIO while the nucleus restarts the driver
// (docs/crash-containment.md): made again, up to this many times in a row.
constexpr uint32_t kCrashRetries = 3;

// CharDevice.info (no side effect) over this thread's own ring binding.
void call_over_ring(ThreadContext& thread) {
    const auto* slot = reinterpret_cast<const UmkaServiceSlot*>(thread.worker.ring_slot);
    chardev::CharDeviceInfo info{};
    uint32_t crash_retries = 0;
    while (phase_of(thread.state) == Phase::Running) {
        chardev::CharDeviceRef device;
        Status status = umka::kabi::bind_service(slot, &device);
        if (status.is_ok()) status = device.info(&info);
        if (status.code() == UMKA_KABI_EIO && crash_retries < kCrashRetries) {
            ++crash_retries;
            continue;
        }
        if (status.is_error()) {
            fail(thread, status.code());
            return;
        }
        crash_retries = 0;
        count_progress(thread);
    }
}

// Marker writes over this thread's own ring binding, summing what the driver says it
// transferred (a short write counts what it wrote; the rest is written again).
void write_markers(ThreadContext& thread) {
    const auto* slot = reinterpret_cast<const UmkaServiceSlot*>(thread.worker.ring_slot);
    uint64_t rest = 0;
    uint32_t crash_retries = 0;
    while (phase_of(thread.state) == Phase::Running) {
        chardev::CharDeviceRef device;
        uint64_t length = rest != 0 ? rest : kMarkerWriteBytes;
        uint64_t transferred = 0;
        Status status = umka::kabi::bind_service(slot, &device);
        if (status.is_ok()) status = device.write(kMarkers.bytes, length, &transferred);
        if (status.is_ok() && transferred > length) status = UMKA_KABI_EBADMSG;
        if (status.code() == UMKA_KABI_EIO && crash_retries < kCrashRetries) {
            ++crash_retries;
            continue;
        }
        if (status.is_error()) {
            fail(thread, status.code());
            return;
        }
        crash_retries = 0;
        __atomic_fetch_add(&thread.worker.marker_bytes, transferred, __ATOMIC_RELAXED);
        rest = length - transferred;
        count_progress(thread);
    }
}

int32_t worker_main(uint64_t argument) {
    auto* worker = reinterpret_cast<Worker*>(argument);
    const auto* binding = reinterpret_cast<const UmkaModuleBinding*>(worker->binding);
    ThreadContext thread{*worker, *state_of(binding), {}};
    if (umka::kabi::bind_required(binding, kThreads, &thread.threads).is_ok()) {
        switch (Kind(thread.state.load_kind)) {
        case Kind::Cpu:
            while (phase_of(thread.state) == Phase::Running) count_progress(thread);
            break;
        case Kind::Alloc:
            churn(thread);
            break;
        case Kind::Sleep:
            while (phase_of(thread.state) == Phase::Running) {
                (void)thread.threads.sleep_ns(kNapNs);
                count_progress(thread);
            }
            break;
        case Kind::Ring:
            call_over_ring(thread);
            break;
        case Kind::Serial:
            write_markers(thread);
            break;
        }
    }
    __atomic_fetch_sub(&thread.state.running_threads, 1, __ATOMIC_ACQ_REL);
    return 0;
}

// --- the commands ------------------------------------------------------------------------

void close_ring_bindings(Command& command) {
    mechanism::RingsRef rings;
    bool found = find_rings(command, &rings);
    for (uint32_t index = 0; index < command.state.thread_count; ++index) {
        Worker& worker = command.state.workers[index];
        if (worker.ring_binding == 0) continue;
        if (found) (void)rings.close(mechanism::RingBinding{worker.ring_binding});
        worker.ring_binding = 0;
        worker.ring_slot = 0;
    }
    command.state.ring_count = 0;
}

// `prefix` and `index` (at least `digits` digits) into a thread or binding name.
uint32_t append_name(char (&name)[24], const char* prefix, uint32_t index, uint32_t digits) {
    Output text(name, sizeof name - 1);
    text.add(prefix).number(index, digits, '0');
    name[text.length()] = '\0';
    return uint32_t(text.length());
}

// One binding per thread to the serial driver's CharDevice, its provider thread placed
// anywhere. On a failure the ones opened are closed again.
bool open_ring_bindings(Command& command, Kind kind, uint32_t count) {
    mechanism::RingsRef rings;
    if (!find_rings(command, &rings)) {
        command.out.add("load: the nucleus publishes no nucleus_mechanism.Rings\n");
        return false;
    }
    for (uint32_t index = 0; index < count; ++index) {
        char name[24];
        uint32_t length = append_name(name, kKinds[uint32_t(kind)].binding_name, index % 100, 2);
        CharDeviceRing ring{};
        Status opened =
            open_char_device_ring(rings, name, length, mechanism::RingPlacement::Anywhere, &ring);
        if (opened.is_error()) {
            command.out.add("load: ring binding ").number(index);
            command.out.add(" to char_device.CharDevice failed (").add(errno_name(opened.code()));
            command.out.add(")\n");
            command.state.thread_count = index;
            close_ring_bindings(command);
            command.state.thread_count = 0;
            return false;
        }
        command.state.workers[index].ring_binding = ring.binding.value;
        command.state.workers[index].ring_slot = ring.slot;
        command.state.ring_count = index + 1;
    }
    return true;
}

bool find_heap_calls(Command& command) {
    static constexpr char kHeapPackage[] = "memory";
    static constexpr char kHeapInterface[] = "Heap";
    static constexpr char kPackage[] = "nucleus_mechanism";
    static constexpr char kInterface[] = "HeapCalls";
    uint64_t heap_slot = 0, calls_slot = 0;
    if (command.directory
            .provider(kHeapPackage, sizeof kHeapPackage - 1, kHeapInterface,
                      sizeof kHeapInterface - 1, 0, 1, &heap_slot)
            .is_error()) {
        command.out.add("load: no module provides memory.Heap\n");
        return false;
    }
    if (command.directory
            .provider(kPackage, sizeof kPackage - 1, kInterface, sizeof kInterface - 1, 0, 1,
                      &calls_slot)
            .is_error()) {
        command.out.add("load: the nucleus publishes no nucleus_mechanism.HeapCalls\n");
        return false;
    }
    command.state.heap_calls_slot = calls_slot;
    return true;
}

void print_marker_bytes(Command& command) {
    State& state = command.state;
    if (Kind(state.load_kind) != Kind::Serial || state.thread_count == 0) return;
    uint64_t total = 0;
    for (uint32_t index = 0; index < state.thread_count; ++index) {
        const Worker& worker = state.workers[index];
        uint64_t bytes = __atomic_load_n(&worker.marker_bytes, __ATOMIC_RELAXED);
        total += bytes;
        command.out.add("  serial writer ").number(index, 2).add(": ").number(bytes);
        command.out.add(" marker bytes in ")
            .number(__atomic_load_n(&worker.progress, __ATOMIC_RELAXED));
        command.out.add(" writes");
        int32_t failure = __atomic_load_n(&worker.failure, __ATOMIC_RELAXED);
        if (failure != 0) command.out.add(", stopped: ").add(errno_name(failure));
        command.out.add("\n");
    }
    command.out.add("load: ").number(total).add(" marker bytes (0x7e) written by ");
    command.out.number(state.thread_count).add(" serial writers\n");
}

Status start(Command& command) {
    static constexpr char kUsage[] =
        "usage: load start cpu N | load start alloc N | load start sleep N | "
        "load start ring N | load start serial N\n";
    if (command.word_count != 3) {
        command.out.add(kUsage);
        return UMKA_KABI_EINVAL;
    }
    uint32_t kind_index = 0;
    while (kind_index < 5 && !same_text(command.words[1], kKinds[kind_index].word)) ++kind_index;
    if (kind_index == 5) {
        command.out.add(kUsage);
        return UMKA_KABI_EINVAL;
    }
    Kind kind = Kind(kind_index);
    uint64_t count = 0;
    if (!parse_count(command.out, "load", "N", command.words[2], 1,
                     ring_kind(kind) ? kMaximumRingThreads : kMaximumLoadThreads, &count)) {
        return UMKA_KABI_EINVAL;
    }
    State& state = command.state;
    if (phase_of(state) != Phase::Idle) {
        command.out.add("load: a workload is running; 'load stop' first\n");
        return UMKA_KABI_EBUSY;
    }
    if (kind == Kind::Alloc && !find_heap_calls(command)) return kNoProvider;
    // The last workload's counters stay readable (`load stats`) until the next one starts.
    for (uint32_t index = 0; index < count; ++index) {
        state.workers[index] = Worker{};
        state.workers[index].binding = reinterpret_cast<uint64_t>(command.binding);
        state.workers[index].index = index;
    }
    uint32_t cpus = command.threads.cpu_count();
    state.cpu_count = cpus < kMaximumCpus ? cpus : kMaximumCpus;
    for (uint64_t& word : state.cpu_progress) word = 0;
    state.load_kind = uint32_t(kind);
    state.thread_count = 0;
    state.has_run = 1;
    if (ring_kind(kind) && !open_ring_bindings(command, kind, uint32_t(count))) {
        return UMKA_KABI_ENOSPC;
    }
    state.running_threads = 0;
    set_phase(state, Phase::Running);
    for (uint32_t index = 0; index < count; ++index) {
        Worker& worker = state.workers[index];
        char name[24];
        uint32_t length = append_name(name, kKinds[kind_index].thread_name, index,
                                      ring_kind(kind) || kind == Kind::Alloc ? 2 : 1);
        __atomic_fetch_add(&state.running_threads, 1, __ATOMIC_ACQ_REL);
        services::Thread thread{};
        Status spawned = command.threads.spawn_thread(
            reinterpret_cast<uint64_t>(&worker_main), reinterpret_cast<uint64_t>(&worker),
            services::ThreadPriority::Normal, services::ThreadPlacement::Anywhere, 0, name, length,
            &thread);
        if (spawned.is_error()) {
            __atomic_fetch_sub(&state.running_threads, 1, __ATOMIC_ACQ_REL);
            command.out.add("load: thread ").number(index).add(" not started (");
            command.out.add(errno_name(spawned.code())).add(")\n");
            break;
        }
        worker.handle = thread.value;
        state.thread_count = index + 1;
    }
    // Bindings of threads that never started are closed now.
    for (uint32_t index = state.thread_count; index < count && ring_kind(kind); ++index) {
        mechanism::RingsRef rings;
        Worker& worker = state.workers[index];
        if (worker.ring_binding != 0 && find_rings(command, &rings)) {
            (void)rings.close(mechanism::RingBinding{worker.ring_binding});
            state.ring_count -= 1;
        }
        worker.ring_binding = 0;
    }
    if (state.thread_count == 0) set_phase(state, Phase::Idle);
    command.out.add("load: ").number(state.thread_count).add(" ");
    command.out.add(kKinds[kind_index].adjective).add(" threads started\n");
    return Status::ok();
}

Status stats(Command& command) {
    State& state = command.state;
    if (state.has_run == 0) {
        command.out.add("load: no workload has run\n");
        return Status::ok();
    }
    command.out.add("load: ").number(state.thread_count).add(" threads, ");
    command.out.number(__atomic_load_n(&state.running_threads, __ATOMIC_ACQUIRE));
    command.out.add(" still running\n");
    for (uint32_t index = 0; index < state.thread_count; ++index) {
        command.out.add("  thread ").number(index, 2).add(": ");
        command.out.number(__atomic_load_n(&state.workers[index].progress, __ATOMIC_RELAXED));
        command.out.add("\n");
    }
    for (uint32_t index = 0; index < state.cpu_count; ++index) {
        command.out.add("  cpu ").number(index).add(": ");
        command.out.number(__atomic_load_n(&state.cpu_progress[index * 8], __ATOMIC_RELAXED));
        command.out.add("\n");
    }
    print_marker_bytes(command);
    return Status::ok();
}

Status stop(Command& command) {
    State& state = command.state;
    if (phase_of(state) != Phase::Running) {
        command.out.add("load: nothing running\n");
        return Status::ok();
    }
    // The threads see the phase within a slice (or a nap) and return; join reaps each.
    set_phase(state, Phase::Stopping);
    uint32_t failed_joins = 0;
    for (uint32_t index = 0; index < state.thread_count; ++index) {
        Worker& worker = state.workers[index];
        int32_t exit_status = 0;
        if (command.threads.join(services::Thread{worker.handle}, &exit_status).is_error()) {
            ++failed_joins;
        }
        worker.handle = 0;
    }
    uint32_t ring_bindings = state.ring_count;
    close_ring_bindings(command);
    set_phase(state, Phase::Idle);
    command.out.add("load: stopped ").number(state.thread_count).add(" threads");
    if (ring_bindings != 0)
        command.out.add(", closed ").number(ring_bindings).add(" ring bindings");
    command.out.add("\n");
    if (failed_joins != 0) {
        command.out.add("load: ").number(failed_joins).add(" threads could not be joined\n");
    }
    print_marker_bytes(command);
    return Status::ok();
}

}  // namespace

Status load_command(Command& command) {
    if (command.word_count >= 1 && same_text(command.words[0], "start")) return start(command);
    if (command.word_count == 1 && same_text(command.words[0], "stats")) return stats(command);
    if (command.word_count == 1 && same_text(command.words[0], "stop")) return stop(command);
    command.out.add("usage: load start cpu|alloc|sleep|ring|serial N | load stats | load stop\n");
    return UMKA_KABI_EINVAL;
}

}  // namespace umka::workload
