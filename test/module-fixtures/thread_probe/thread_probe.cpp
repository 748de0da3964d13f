// thread_probe: uses kernel_services.Threads the way a driver would, and reports what each
// call did (thread_probe.kabi). start() spawns named threads, some pinned to each CPU and
// some placed anywhere; threads 0 and 1 hand a counter back and forth through a module
// wait queue (futex style: wait while the word still holds what was read, wake after
// changing it). finish() joins them all, then makes calls with bad arguments and records
// the statuses they got. Module code keeps no state of its own: everything is in the
// nucleus-owned state region, which the threads reach through their ProbeWorker record.
#include "umka/kabi/thread_probe.hpp"

#include "umka/kabi/kernel_services.hpp"
#include "umka/kabi/thread_probe_manifest.hpp"
#include "umka/kabi/thread_probe_state.hpp"
#include "umka/module_entry.h"

namespace probe = umka::kabi::thread_probe;
namespace services = umka::kabi::kernel_services;

namespace {

enum Required : uint32_t { kThreads = 0 };
enum Role : uint32_t { kWorker = 0, kPing = 1, kPong = 2 };

constexpr uint32_t kAnyCpu = 0xFFFFFFFFu;
constexpr uint32_t kMaximumThreads = 32;
constexpr uint32_t kHandoffRounds = 8;
constexpr uint64_t kWorkIterations = 200000;
constexpr uint64_t kMillisecond = 1000000;

probe::ThreadProbeState* state_of(const UmkaModuleBinding* binding) {
    return umka::kabi::module_state<probe::ThreadProbeState>(binding);
}

services::ThreadsRef threads_of(const UmkaModuleBinding* binding) {
    services::ThreadsRef threads;
    (void)umka::kabi::bind_required(binding, kThreads, &threads);
    return threads;
}

// Busy work with a yield now and then, so the thread is seen running and switching.
uint64_t work(const services::ThreadsRef& threads) {
    uint64_t value = 1;
    for (uint64_t iteration = 1; iteration <= kWorkIterations; ++iteration) {
        value = value * 6364136223846793005ull + 1442695040888963407ull;
        if (iteration % 20000 == 0) threads.yield_now();
    }
    __asm__ volatile("" : : "r"(value));
    return kWorkIterations;
}

// Waits until the hand-off word reaches `turn`: futex style, so a wake between reading the
// word and blocking cannot be lost (the nucleus re-reads it under the queue's lock).
int32_t wait_for_turn(const services::ThreadsRef& threads, probe::ThreadProbeState* state,
                      uint32_t turn) {
    services::WaitQueue queue{state->handoff_queue};
    for (;;) {
        uint32_t seen = __atomic_load_n(&state->handoff_word, __ATOMIC_ACQUIRE);
        if (seen == turn) return 0;
        umka::kabi::Status status =
            threads.queue_wait(queue, reinterpret_cast<uint64_t>(&state->handoff_word), seen, 0);
        if (status.is_ok()) {
            __atomic_fetch_add(&state->handoff_wakeups, 1, __ATOMIC_RELAXED);
        } else if (status.code() != UMKA_KABI_EAGAIN) {
            return status.code();
        }
    }
}

int32_t hand_off(const services::ThreadsRef& threads, probe::ThreadProbeState* state, Role role) {
    services::WaitQueue queue{state->handoff_queue};
    uint32_t first_turn = role == kPing ? 0 : 1;
    for (uint32_t round = 0; round < kHandoffRounds; ++round) {
        int32_t status = wait_for_turn(threads, state, 2 * round + first_turn);
        if (status != 0) return status;
        // Give the other side time to block, so the wake below usually finds a waiter.
        (void)threads.sleep_ns(kMillisecond);
        __atomic_store_n(&state->handoff_word, 2 * round + first_turn + 1, __ATOMIC_RELEASE);
        uint32_t woken = 0;
        umka::kabi::Status woke = threads.queue_wake(queue, 1, &woken);
        if (woke.is_error()) return woke.code();
        __atomic_fetch_add(&state->handoff_woken, woken, __ATOMIC_RELAXED);
    }
    return 0;
}

// A thread's function: `argument` is its ProbeWorker in the state region. Returns
// 100 + index, or minus the errno of a hand-off call that failed.
int32_t thread_main(uint64_t argument) {
    auto* worker = reinterpret_cast<probe::ProbeWorker*>(argument);
    const auto* binding = reinterpret_cast<const UmkaModuleBinding*>(worker->binding);
    services::ThreadsRef threads = threads_of(binding);
    worker->self_handle = threads.current().value;
    if (worker->role == kWorker) {
        worker->work = work(threads);
    } else {
        int32_t status = hand_off(threads, state_of(binding), Role(worker->role));
        if (status != 0) return -status;
    }
    worker->ran_on_cpu = threads.current_cpu();
    return int32_t(100 + worker->index);
}

uint32_t format_name(char* name, uint32_t index) {
    const char prefix[] = "probe-";
    uint32_t length = 0;
    for (; prefix[length] != '\0'; ++length) name[length] = prefix[length];
    if (index >= 10) name[length++] = char('0' + index / 10);
    name[length++] = char('0' + index % 10);
    return length;
}

umka::kabi::Status spawn(const services::ThreadsRef& threads, uint64_t function, uint64_t argument,
                         uint32_t cpu, const char* name, uint64_t name_length,
                         services::Thread* thread) {
    services::ThreadPlacement placement =
        cpu == kAnyCpu ? services::ThreadPlacement::Anywhere : services::ThreadPlacement::OnCpu;
    return threads.spawn_thread(function, argument, services::ThreadPriority::Normal, placement,
                                cpu == kAnyCpu ? 0 : cpu, name, name_length, thread);
}

// A spawn that should have been refused: its thread is joined so nothing is left behind,
// and the 0 recorded makes the check fail.
int32_t refused(const services::ThreadsRef& threads, umka::kabi::Status status,
                services::Thread thread) {
    if (status.is_ok()) {
        int32_t exit_status = 0;
        (void)threads.join(thread, &exit_status);
    }
    return status.code();
}

void check_bad_arguments(const UmkaModuleBinding* binding, const services::ThreadsRef& threads,
                         probe::ThreadProbeState* state, const void* read_only_data,
                         probe::ProbeChecks& checks);

struct ProvidedProbe {
    static umka::kabi::Status start(void* context, uint32_t thread_count) {
        const UmkaModuleBinding* binding = umka::kabi::binding_of(context);
        probe::ThreadProbeState* state = state_of(binding);
        services::ThreadsRef threads = threads_of(binding);
        if (thread_count < 2 || thread_count > kMaximumThreads) return UMKA_KABI_EINVAL;
        if (state->phase != 0) return UMKA_KABI_EBUSY;
        services::WaitQueue queue{};
        umka::kabi::Status created = threads.queue_create(&queue);
        if (created.is_error()) return created;
        state->handoff_queue = queue.value;
        state->handoff_word = 0;
        state->handoff_woken = 0;
        state->handoff_wakeups = 0;
        state->thread_count = thread_count;
        uint32_t cpus = threads.cpu_count();
        for (uint32_t index = 0; index < thread_count; ++index) {
            probe::ProbeWorker& worker = state->workers[index];
            worker = probe::ProbeWorker{};
            worker.binding = reinterpret_cast<uint64_t>(binding);
            worker.index = index;
            worker.role = index == 0 ? kPing : index == 1 ? kPong : kWorker;
            worker.requested_cpu = index % 2 == 0 ? index / 2 % cpus : kAnyCpu;
            char name[24];
            uint32_t length = format_name(name, index);
            services::Thread thread{};
            worker.spawn_status = spawn(threads, reinterpret_cast<uint64_t>(&thread_main),
                                        reinterpret_cast<uint64_t>(&worker), worker.requested_cpu,
                                        name, length, &thread)
                                      .code();
            worker.handle = thread.value;
        }
        state->phase = 1;
        return umka::kabi::Status::ok();
    }

    static umka::kabi::Status finish(void* context, probe::ProbeReport* report);
};
static_assert(__is_empty(ProvidedProbe), "module code keeps no state of its own");

constexpr probe::ThreadProbeVtable probe_vtable = probe::make_thread_probe_vtable<ProvidedProbe>();

umka::kabi::Status ProvidedProbe::finish(void* context, probe::ProbeReport* report) {
    const UmkaModuleBinding* binding = umka::kabi::binding_of(context);
    probe::ThreadProbeState* state = state_of(binding);
    services::ThreadsRef threads = threads_of(binding);
    if (state->phase != 1) return UMKA_KABI_EINVAL;
    for (uint32_t index = 0; index < state->thread_count; ++index) {
        probe::ProbeWorker& worker = state->workers[index];
        if (worker.spawn_status != 0) continue;
        worker.join_status =
            threads.join(services::Thread{worker.handle}, &worker.exit_status).code();
    }
    *report = probe::ProbeReport{};
    check_bad_arguments(binding, threads, state, &probe_vtable, report->checks);
    report->thread_count = state->thread_count;
    report->cpu_count = threads.cpu_count();
    report->handoff_rounds = kHandoffRounds;
    report->handoff_word = state->handoff_word;
    report->handoff_woken = state->handoff_woken;
    report->handoff_wakeups = state->handoff_wakeups;
    for (uint32_t index = 0; index < state->thread_count; ++index)
        report->workers[index] = state->workers[index];
    state->phase = 0;
    return umka::kabi::Status::ok();
}

void check_bad_arguments(const UmkaModuleBinding* binding, const services::ThreadsRef& threads,
                         probe::ThreadProbeState* state, const void* read_only_data,
                         probe::ProbeChecks& checks) {
    const uint64_t function = reinterpret_cast<uint64_t>(&thread_main);
    const uint64_t argument = reinterpret_cast<uint64_t>(&state->workers[0]);
    const char name[] = "probe-bad";
    const uint64_t name_length = sizeof name - 1;
    services::Thread thread{};
    checks.function_in_data = refused(threads,
                                      spawn(threads, reinterpret_cast<uint64_t>(read_only_data),
                                            argument, kAnyCpu, name, name_length, &thread),
                                      thread);
    checks.function_outside_module = refused(threads,
                                             spawn(threads, reinterpret_cast<uint64_t>(binding),
                                                   argument, kAnyCpu, name, name_length, &thread),
                                             thread);
    checks.cpu_out_of_range =
        refused(threads,
                spawn(threads, function, argument, threads.cpu_count(), name, name_length, &thread),
                thread);
    checks.null_name =
        refused(threads, spawn(threads, function, argument, kAnyCpu, nullptr, 5, &thread), thread);
    const char long_name[] = "probe-with-a-thirty-byte-name!";
    checks.long_name = refused(
        threads,
        spawn(threads, function, argument, kAnyCpu, long_name, sizeof long_name - 1, &thread),
        thread);
    checks.bad_priority = refused(
        threads,
        threads.spawn_thread(function, argument, services::ThreadPriority(7),
                             services::ThreadPlacement::Anywhere, 0, name, name_length, &thread),
        thread);
    checks.bad_placement =
        refused(threads,
                threads.spawn_thread(function, argument, services::ThreadPriority::Normal,
                                     services::ThreadPlacement(9), 0, name, name_length, &thread),
                thread);
    int32_t exit_status = 0;
    checks.forged_join = threads.join(services::Thread{0x0000000500000003ull}, &exit_status).code();
    checks.stale_join =
        threads.join(services::Thread{state->workers[0].handle}, &exit_status).code();

    services::WaitQueue queue{state->handoff_queue};
    uint64_t word = reinterpret_cast<uint64_t>(&state->handoff_word);
    uint32_t value = __atomic_load_n(&state->handoff_word, __ATOMIC_ACQUIRE);
    checks.forged_queue = threads.queue_wait(services::WaitQueue{0x77}, word, value, 0).code();
    checks.word_changed = threads.queue_wait(queue, word, value + 5, 0).code();
    checks.timeout = threads.queue_wait(queue, word, value, 5 * kMillisecond).code();
    checks.unaligned_word = threads.queue_wait(queue, word + 1, value, 0).code();
    checks.null_word = threads.queue_wait(queue, 0, value, 0).code();
    uint32_t woken = 0;
    checks.forged_wake =
        threads.queue_wake(services::WaitQueue{0x1234567800000001ull}, 1, &woken).code();
    umka::kabi::Status destroyed = threads.queue_destroy(queue);
    checks.destroyed_twice = destroyed.is_ok() ? threads.queue_destroy(queue).code() : 0;
    checks.current_outside_thread = uint32_t(threads.current().value);
}

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_THREAD_PROBE();

UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, 1, 1, 1)) return UMKA_KABI_EINVAL;
    if (state_of(binding) == nullptr) return UMKA_KABI_EINVAL;
    return umka_module_provide(binding, 0, &probe_vtable, binding);
}
