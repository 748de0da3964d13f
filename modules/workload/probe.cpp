// `probe rings`: nucleus_mechanism.Rings with bad arguments and a stale or forged handle,
// then one good open/counters/close, each call's errno printed (QEMU scenario
// `workload-limits`).
// `probe threads N`: drives the thread_probe test module (kabi-idl/thread_probe.kabi),
// which uses kernel_services.Threads for real, and prints what happened: the thread table
// while its threads run, then each one's placement, CPU and joined exit status, the
// wait-queue hand-off, and the errno every bad-argument call got. The QEMU scenario
// `thread-api` asserts on these lines.
#include "umka/kabi/bus_access.hpp"
#include "umka/kabi/nucleus_mechanism.hpp"
#include "umka/kabi/thread_probe.hpp"
#include "workload.h"

namespace umka::workload {
namespace {

namespace probe = umka::kabi::thread_probe;
namespace mechanism = umka::kabi::nucleus_mechanism;

constexpr uint32_t kAnyCpu = 0xFFFFFFFFu;

void print_checks(Output& out, const probe::ProbeChecks& checks) {
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
    for (const Line& line : lines) {
        out.add("probe: bad call: ").add(line.call).add(" -> ").add(errno_name(line.status));
        out.add("\n");
    }
    out.add("probe: current() outside a module thread -> ").number(checks.current_outside_thread);
    out.add("\n");
}

void print_report(Output& out, const probe::ProbeReport& report) {
    for (uint32_t index = 0; index < report.thread_count && index < 32; ++index) {
        const probe::ProbeWorker& worker = report.workers[index];
        const char* role = worker.role == 1 ? "ping" : worker.role == 2 ? "pong" : "work";
        out.add("probe: thread ").number(index, 2).add(" ");
        if (worker.spawn_status != 0) {
            out.add("spawn failed: ").add(errno_name(worker.spawn_status)).add("\n");
            continue;
        }
        char placement[16] = "anywhere";
        if (worker.requested_cpu != kAnyCpu) {
            Output where(placement, sizeof placement - 1);
            where.add("cpu ").number(worker.requested_cpu);
            placement[where.length()] = '\0';
        }
        out.add(role).add(" ").padded(placement, 8).add(" ran on cpu ").number(worker.ran_on_cpu);
        out.add(", current ").add(worker.self_handle == worker.handle ? "matches" : "differs");
        out.add(", joined ").add(errno_name(worker.join_status)).add(", exit ");
        out.signed_number(worker.exit_status).add("\n");
    }
    out.add("probe: hand-off ").number(report.handoff_rounds).add(" rounds, word ");
    out.number(report.handoff_word).add(", ").number(report.handoff_woken);
    out.add(" waiters woken, ").number(report.handoff_wakeups).add(" wake-ups returned\n");
    print_checks(out, report.checks);
}

struct RingOpen {
    const char* call;
    const char* package;
    const char* interface;
    const char* name;
    uint8_t placement;
    bool cpu_past_last;
};

uint64_t text_length(const char* text) {
    uint64_t length = 0;
    while (text[length] != '\0') ++length;
    return length;
}

void print_call(Output& out, const char* call, Status status) {
    out.add("probe: rings: ").add(call).add(" -> ").add(errno_name(status.code())).add("\n");
}

Status probe_rings(Command& command) {
    mechanism::RingsRef rings;
    if (!find_rings(command, &rings)) {
        command.out.add("probe: the nucleus publishes no nucleus_mechanism.Rings\n");
        return kNoProvider;
    }
    static constexpr RingOpen kOpens[] = {
        {"open with an empty name", "char_device", "CharDevice", "", 0, false},
        {"open with a 24-byte name", "char_device", "CharDevice", "probe-rings-name-24bytes", 0,
         false},
        {"open with placement 9", "char_device", "CharDevice", "probe-rings", 9, false},
        {"open on cpu cpu_count", "char_device", "CharDevice", "probe-rings", 1, true},
        {"open an interface nobody provides", "char_device", "NoSuchDevice", "probe-rings", 0,
         false},
        {"open an interface without a ring adapter", "kernel_services", "Log", "probe-rings", 0,
         false},
    };
    for (const RingOpen& open : kOpens) {
        mechanism::RingBinding binding{};
        uint64_t slot = 0, provider_slot = 0;
        Status status = rings.open(
            open.package, text_length(open.package), open.interface, text_length(open.interface),
            open.name, text_length(open.name), mechanism::RingPlacement(open.placement),
            open.cpu_past_last ? command.threads.cpu_count() : 0, &binding, &slot, &provider_slot);
        if (status.is_ok()) (void)rings.close(binding);  // reported below as the wrong answer
        print_call(command.out, open.call, status);
    }
    static constexpr char kName[] = "probe-rings";
    CharDeviceRing ring{};
    Status opened = open_char_device_ring(rings, kName, sizeof kName - 1,
                                          mechanism::RingPlacement::Anywhere, &ring);
    mechanism::RingBinding binding = ring.binding;
    print_call(command.out, "open char_device.CharDevice", opened);
    if (opened.is_error()) return Status::ok();
    mechanism::RingBindingCounters counters{};
    print_call(command.out, "counters", rings.counters(binding, &counters));
    print_call(command.out, "close", rings.close(binding));
    print_call(command.out, "close again", rings.close(binding));
    print_call(command.out, "counters of the closed binding", rings.counters(binding, &counters));
    print_call(command.out, "close a forged handle",
               rings.close(mechanism::RingBinding{(uint64_t(7) << 32) | 3}));
    return Status::ok();
}

// bus_access.Mmio from a module granted nothing: every call refused, the map with EPERM and
// its reason in the nucleus's log.
Status probe_mmio(Command& command) {
    static constexpr char kPackage[] = "bus_access";
    static constexpr char kInterface[] = "Mmio";
    umka::kabi::bus_access::MmioRef mmio;
    if (!find_service(command.directory, kPackage, sizeof kPackage - 1, kInterface,
                      sizeof kInterface - 1, 1, &mmio)) {
        command.out.add("probe: the nucleus publishes no bus_access.Mmio\n");
        return kNoProvider;
    }
    umka::kabi::bus_access::MmioWindow window{};
    uint64_t length = 0;
    uint64_t value = 0;
    Output& out = command.out;
    out.add("probe: mmio: map window 0 -> ").add(errno_name(mmio.map(0, &window, &length).code()));
    out.add("\nprobe: mmio: read through a forged window -> ");
    out.add(errno_name(mmio.read(umka::kabi::bus_access::MmioWindow{(uint64_t(3) << 32) | 1}, 0,
                                 umka::kabi::bus_access::AccessWidth::Dword, &value)
                           .code()));
    out.add("\n");
    return Status::ok();
}

}  // namespace

Status probe_command(Command& command) {
    if (command.word_count == 1 && same_text(command.words[0], "rings")) {
        return probe_rings(command);
    }
    if (command.word_count == 1 && same_text(command.words[0], "dma")) return probe_dma(command);
    if (command.word_count == 1 && same_text(command.words[0], "mmio")) return probe_mmio(command);
    uint64_t count = 0;
    if (command.word_count != 2 || !same_text(command.words[0], "threads")) {
        command.out.add(
            "usage: probe threads N   (N threads of the thread_probe module, 2..32) | probe "
            "rings | probe dma | probe mmio\n");
        return UMKA_KABI_EINVAL;
    }
    if (!parse_count(command.out, "probe", "N", command.words[1], 1, kMaximumProbeThreads,
                     &count)) {
        return UMKA_KABI_EINVAL;
    }
    static constexpr char kPackage[] = "thread_probe";
    static constexpr char kInterface[] = "ThreadProbe";
    probe::ThreadProbeRef probe_module;
    if (!find_service(command.directory, kPackage, sizeof kPackage - 1, kInterface,
                      sizeof kInterface - 1, 1, &probe_module)) {
        command.out.add(
            "probe: no module provides thread_probe.ThreadProbe (boot a bundle with "
            "thread_probe.umod)\n");
        return kNoProvider;
    }
    Status started = probe_module.start(uint32_t(count));
    if (started.is_error()) {
        command.out.add("probe: start ").number(count).add(" failed: ");
        command.out.add(errno_name(started.code())).add("\n");
        return started;
    }
    command.out.add("probe: started ").number(count).add(" threads\n");
    // The thread table while they run: whoever serves `threads` prints it.
    static constexpr char kThreads[] = "threads";
    if (run_console_command(command, kThreads, sizeof kThreads - 1).is_error()) {
        command.out.add("probe: no console command 'threads' to show the thread table\n");
    }
    // The report lives in the state region: 2 KiB is more than the console's stack should
    // carry for one command.
    probe::ProbeReport& report = command.state.probe_report;
    Status finished = probe_module.finish(&report);
    if (finished.is_error()) {
        command.out.add("probe: finish failed: ").add(errno_name(finished.code())).add("\n");
        return finished;
    }
    print_report(command.out, report);
    return Status::ok();
}

}  // namespace umka::workload
