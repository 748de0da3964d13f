// `probe threads N`: drives the thread_probe test module (kabi-idl/thread_probe.kabi), which
// uses kernel_services.Threads for real, and prints what happened: the threads while they
// run (names, CPUs, states), then each one's placement, CPU and joined exit status, the
// wait-queue hand-off, and the errno every bad-argument call got. The QEMU scenario
// `thread-api` asserts on these lines.
#include "nucleus/introspection/introspection.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/sched/scheduler.h"
#include "umka/kabi/thread_probe.hpp"

namespace umka::loader {
namespace {

namespace probe = umka::kabi::thread_probe;

constexpr uint32_t kAnyCpu = 0xFFFFFFFFu;

// Commands run on the console task only, one at a time; 2 KiB is more than its stack
// should carry for one command.
constinit probe::ProbeReport last_report{};

const char* status_name(int32_t code) {
    return code == 0 ? "OK" : errno_name(Errno(code));
}

void print_checks(const probe::ProbeChecks& checks, console::TextOutput& out) {
    struct Line {
        const char* call;
        int32_t status;
    };
    const Line lines[] = {
        {"spawn function in read-only data", checks.function_in_data},
        {"spawn function outside the module", checks.function_outside_module},
        {"spawn on cpu cpu_count", checks.cpu_out_of_range},
        {"spawn with null name", checks.null_name},
        {"spawn with 30-byte name", checks.long_name},
        {"spawn with priority 7", checks.bad_priority},
        {"spawn with placement 9", checks.bad_placement},
        {"join forged handle", checks.forged_join},
        {"join joined handle", checks.stale_join},
        {"wait on forged queue", checks.forged_queue},
        {"wait on changed word", checks.word_changed},
        {"wait with 5 ms timeout", checks.timeout},
        {"wait on unaligned word", checks.unaligned_word},
        {"wait on null word", checks.null_word},
        {"wake forged queue", checks.forged_wake},
        {"destroy queue twice", checks.destroyed_twice},
    };
    for (const Line& line : lines)
        out.print("probe: bad call: %s -> %s\n", line.call, status_name(line.status));
    out.print("probe: current() outside a module thread -> %u\n", checks.current_outside_thread);
}

void print_report(const probe::ProbeReport& report, console::TextOutput& out) {
    for (uint32_t index = 0; index < report.thread_count && index < 32; ++index) {
        const probe::ProbeWorker& worker = report.workers[index];
        const char* role = worker.role == 1 ? "ping" : worker.role == 2 ? "pong" : "work";
        if (worker.spawn_status != 0) {
            out.print("probe: thread %2u spawn failed: %s\n", index,
                      status_name(worker.spawn_status));
            continue;
        }
        char placement[16];
        if (worker.requested_cpu == kAnyCpu) {
            __builtin_memcpy(placement, "anywhere", 9);
        } else {
            __builtin_memcpy(placement, "cpu ", 4);
            placement[4] = char('0' + worker.requested_cpu % 10);
            placement[5] = '\0';
        }
        out.print("probe: thread %2u %s %-8s ran on cpu %u, current %s, joined %s, exit %d\n",
                  index, role, placement, worker.ran_on_cpu,
                  worker.self_handle == worker.handle ? "matches" : "differs",
                  status_name(worker.join_status), worker.exit_status);
    }
    out.print("probe: hand-off %u rounds, word %u, %u waiters woken, %u wake-ups returned\n",
              report.handoff_rounds, report.handoff_word, report.handoff_woken,
              report.handoff_wakeups);
    print_checks(report.checks, out);
}

void run_threads(uint32_t count, console::TextOutput& out) {
    Result<UmkaServiceSlot*> slot =
        module_system().initialized()
            ? module_system().registry().find("thread_probe", "ThreadProbe", nullptr)
            : Result<UmkaServiceSlot*>(Errno::NotFound);
    probe::ThreadProbeRef probe_module;
    if (slot.is_error() || umka::kabi::bind_service(slot.value(), &probe_module).is_error()) {
        out.print(
            "probe: no module provides thread_probe.ThreadProbe (boot a bundle with "
            "thread_probe.umod)\n");
        return;
    }
    umka::kabi::Status started = probe_module.start(count);
    if (started.is_error()) {
        out.print("probe: start %u failed: %s\n", count, status_name(started.code()));
        return;
    }
    out.print("probe: started %u threads\n", count);
    // The thread table while they live (the shell's `threads` columns id, name, cpu, state).
    for (uint32_t slot = 0; slot < sched::thread_slot_count(); ++slot) {
        kabi::introspection::ThreadRecord thread{};
        if (sched::thread_record(slot, thread).is_error()) continue;
        out.print("%4u  %-18s %4u  %s\n", thread.slot, reinterpret_cast<const char*>(thread.name),
                  thread.cpu, reinterpret_cast<const char*>(thread.state));
    }
    umka::kabi::Status finished = probe_module.finish(&last_report);
    if (finished.is_error()) {
        out.print("probe: finish failed: %s\n", status_name(finished.code()));
        return;
    }
    print_report(last_report, out);
}

}  // namespace

void probe_command(const char* arguments, console::TextOutput& out) {
    static constexpr char kThreads[] = "threads ";
    uint32_t count = 0;
    const char* cursor = arguments + sizeof kThreads - 1;
    if (__builtin_memcmp(arguments, kThreads, sizeof kThreads - 1) == 0) {
        while (*cursor >= '0' && *cursor <= '9' && count < 1000)
            count = count * 10 + uint32_t(*cursor++ - '0');
    }
    if (count == 0 || *cursor != '\0') {
        out.print("usage: probe threads N   (N threads of the thread_probe module, 2..32)\n");
        return;
    }
    run_threads(count, out);
}

}  // namespace umka::loader
