// `measure caps | switch [ROUNDS] | ring [ROUNDS] | direct [ROUNDS]`: what a public path
// costs, each beside a
// baseline taken in the same run, timed with kernel_services.Clock (nanoseconds: a module
// has no cycle counter of its own).
//   caps    a service_directory.Directory lookup (the caller identified, the registry
//           searched, the binding recorded and version-checked) against a call of a
//           nucleus service that looks nothing up (kernel_services.Log.level);
//   switch  a yield that hands the CPU to another thread on it against one that does not
//           (measure_switch.cpp);
//   ring    CharDevice.info over a ring binding whose provider thread runs on another
//           CPU (nucleus_mechanism.Rings) against a direct call through the provider's
//           own service slot, and against one cache line handed to that CPU and back
//           (measure_pingpong.cpp: the floor of any cross-CPU call);
//   direct  console_command.Interrupt.poll, a direct call into the console service (through
//           the nucleus's trampoline, guarded and in its memory domain, when the service is
//           at tier 1: docs/crash-containment.md), against kernel_services.Log.level, both
//           on a thread of the workload's own.
#include "umka/kabi/char_device.hpp"
#include "umka/kabi/console_command.hpp"
#include "umka/kabi/nucleus_mechanism.hpp"
#include "workload.h"

namespace umka::workload {
namespace {

namespace chardev = umka::kabi::char_device;
namespace mechanism = umka::kabi::nucleus_mechanism;

constexpr char kUsage[] =
    "usage: measure caps | measure switch [ROUNDS] | measure ring [ROUNDS] | measure direct "
    "[ROUNDS]\n";
constexpr uint64_t kCapsRounds = 100000;
constexpr uint32_t kWarmUpCalls = 64;

Status interrupted(Command& command) {
    command.out.add("interrupted\n");
    return UMKA_KABI_ECANCELED;
}

// "NAME" or "NAME ROUNDS"; *rounds is kDefaultRounds when absent.
bool parse_rounds(Command& command, uint64_t* rounds) {
    *rounds = kDefaultRounds;
    if (command.word_count == 1) return true;
    if (command.word_count != 2) {
        command.out.add(kUsage);
        return false;
    }
    return parse_count(command.out, "measure", "ROUNDS", command.words[1], 1, kMaximumRounds,
                       rounds);
}

// "WHAT X.XX ns; baseline call (kernel_services.Log.level) Y.YY ns; ratio R (N rounds
// each)": both in hundredths of a nanosecond per round.
void report_against_baseline(Output& out, const char* what, uint64_t measured_ns,
                             uint64_t baseline_ns, uint64_t rounds) {
    const uint64_t totals[2] = {measured_ns, baseline_ns};
    for (uint32_t index = 0; index < 2; ++index) {
        uint64_t centi = totals[index] * 100 / rounds;
        out.add(index == 0 ? what : " ns; baseline call (kernel_services.Log.level) ");
        out.number(centi / 100).add(".").add(centi % 100 < 10 ? "0" : "").number(centi % 100);
    }
    out.add(" ns; ratio ").ratio(measured_ns, baseline_ns);
    out.add(" (").number(rounds).add(" rounds each)\n");
}

// The baseline: `rounds` calls of kernel_services.Log.level, a nucleus service that looks
// nothing up, in *ns. False when Ctrl-C stopped it.
bool time_log_level(Command& command, services::LogRef& log, Interrupt& interrupt, uint64_t rounds,
                    uint64_t* ns) {
    uint64_t sink = 0;
    uint64_t start = command.clock.now_ns();
    for (uint64_t round = 0; round < rounds; ++round) {
        if (round % 1024 == 0 && interrupt.poll()) return false;
        sink += uint64_t(log.level());
    }
    *ns = command.clock.now_ns() - start;
    __asm__ volatile("" : : "r"(sink));
    return true;
}

Status measure_caps(Command& command) {
    services::LogRef log;
    if (umka::kabi::bind_required(command.binding, kLog, &log).is_error()) {
        command.out.add("measure: kernel_services.Log is not bound\n");
        return UMKA_KABI_EINVAL;
    }
    static constexpr char kPackage[] = "kernel_services";
    static constexpr char kInterface[] = "Log";
    Interrupt interrupt(command.directory, command.clock);
    uint64_t sink = 0;
    uint64_t baseline = 0;
    if (!time_log_level(command, log, interrupt, kCapsRounds, &baseline))
        return interrupted(command);
    uint64_t start = command.clock.now_ns();
    for (uint64_t round = 0; round < kCapsRounds; ++round) {
        if (round % 1024 == 0 && interrupt.poll()) return interrupted(command);
        uint64_t slot = 0;
        Status found = command.directory.provider(kPackage, sizeof kPackage - 1, kInterface,
                                                  sizeof kInterface - 1, 0, 1, &slot);
        if (found.is_error()) {
            command.out.add("measure: the directory lookup failed: ");
            command.out.add(errno_name(found.code())).add("\n");
            return found;
        }
        sink += slot;
    }
    uint64_t lookups = command.clock.now_ns() - start;
    __asm__ volatile("" : : "r"(sink));
    report_against_baseline(
        command.out,
        "capability lookup (service_directory.Directory.provider of kernel_services.Log): ",
        lookups, baseline, kCapsRounds);
    return Status::ok();
}

// The timing of `measure direct`, on a thread of its own: a command runs inside the console
// service's code (it executes the command), so a call from the command's thread into the
// console service re-enters it, and the nucleus makes such a call unguarded
// (docs/crash-containment.md, "Direct calls into a tier-1 module").
struct DirectRun {
    Command* command;
    services::LogRef log;
    umka::kabi::console_command::InterruptRef target;
    uint64_t rounds;
    uint64_t baseline_ns;
    uint64_t calls_ns;
    Status status;
};

int32_t time_direct_calls(uint64_t argument) {
    auto& run = *reinterpret_cast<DirectRun*>(argument);
    Command& command = *run.command;
    Interrupt interrupt(command.directory, command.clock);
    uint64_t sink = 0;
    uint8_t flag = 0;
    for (uint32_t round = 0; round < kWarmUpCalls; ++round) {
        sink += uint64_t(run.log.level()) + uint64_t(run.target.poll(&flag).code());
    }
    if (!time_log_level(command, run.log, interrupt, run.rounds, &run.baseline_ns)) {
        run.status = UMKA_KABI_ECANCELED;
        return 0;
    }
    uint64_t start = command.clock.now_ns();
    for (uint64_t round = 0; round < run.rounds; ++round) {
        if (round % 1024 == 0 && interrupt.poll()) {
            run.status = UMKA_KABI_ECANCELED;
            return 0;
        }
        run.status = run.target.poll(&flag);
        if (run.status.is_error()) return 0;
        sink += flag;
    }
    run.calls_ns = command.clock.now_ns() - start;
    __asm__ volatile("" : : "r"(sink));
    return 0;
}

Status measure_direct(Command& command, uint64_t rounds) {
    DirectRun run{&command, {}, {}, rounds, 0, 0, Status::ok()};
    if (umka::kabi::bind_required(command.binding, kLog, &run.log).is_error()) {
        command.out.add("measure: kernel_services.Log is not bound\n");
        return UMKA_KABI_EINVAL;
    }
    static constexpr char kPackage[] = "console_command";
    static constexpr char kInterface[] = "Interrupt";
    if (!find_service(command.directory, kPackage, sizeof kPackage - 1, kInterface,
                      sizeof kInterface - 1, 1, &run.target)) {
        command.out.add("measure: no console_command.Interrupt provider\n");
        return kNoProvider;
    }
    services::Thread caller{};
    Status spawned = spawn_partner(command, &time_direct_calls, reinterpret_cast<uint64_t>(&run),
                                   command.threads.current_cpu(), "direct-caller", &caller);
    if (spawned.is_error()) return spawned;
    int32_t exit_status = 0;
    (void)command.threads.join(caller, &exit_status);
    if (run.status.code() == UMKA_KABI_ECANCELED) return interrupted(command);
    if (run.status.is_error()) {
        command.out.add("measure: Interrupt.poll failed: ").add(errno_name(run.status.code()));
        command.out.add("\n");
        return run.status;
    }
    report_against_baseline(command.out,
                            "direct call (console_command.Interrupt.poll): ", run.calls_ns,
                            run.baseline_ns, rounds);
    return Status::ok();
}

// Nanoseconds for `rounds` CharDevice.info calls through `slot`, loading it per call as
// a consumer does; 0 if a call failed (or was interrupted: *stopped).
uint64_t time_calls(Command& command, Interrupt& interrupt, uint64_t slot, uint64_t rounds,
                    bool* stopped) {
    chardev::CharDeviceInfo info{};
    uint64_t start = command.clock.now_ns();
    for (uint64_t round = 0; round < rounds; ++round) {
        if (round % 256 == 0 && interrupt.poll()) {
            *stopped = true;
            return 0;
        }
        chardev::CharDeviceRef device;
        if (umka::kabi::bind_service(reinterpret_cast<const UmkaServiceSlot*>(slot), &device)
                .is_error() ||
            device.info(&info).is_error()) {
            return 0;
        }
    }
    uint64_t elapsed = command.clock.now_ns() - start;
    return elapsed != 0 ? elapsed : 1;
}

Status measure_ring(Command& command, uint64_t rounds) {
    mechanism::RingsRef rings;
    if (!find_rings(command, &rings)) {
        command.out.add("measure: the nucleus publishes no nucleus_mechanism.Rings\n");
        return kNoProvider;
    }
    static constexpr char kName[] = "measure";
    CharDeviceRing ring{};
    Status opened = open_char_device_ring(rings, kName, sizeof kName - 1,
                                          mechanism::RingPlacement::QuietCpu, &ring);
    if (opened.is_error()) {
        command.out.add("measure: no ring binding to char_device.CharDevice (");
        command.out.add(errno_name(opened.code())).add(")\n");
        return opened;
    }
    Interrupt interrupt(command.directory, command.clock);
    bool stopped = false;
    uint32_t here = command.threads.current_cpu();
    (void)time_calls(command, interrupt, ring.slot, kWarmUpCalls, &stopped);
    (void)time_calls(command, interrupt, ring.provider_slot, kWarmUpCalls, &stopped);
    uint64_t ring_ns = stopped ? 0 : time_calls(command, interrupt, ring.slot, rounds, &stopped);
    uint64_t direct_ns =
        stopped ? 0 : time_calls(command, interrupt, ring.provider_slot, rounds, &stopped);
    mechanism::RingBindingCounters counters{};
    Status counted = rings.counters(ring.binding, &counters);
    (void)rings.close(ring.binding);
    if (stopped) return interrupted(command);
    if (ring_ns == 0 || direct_ns == 0 || counted.is_error()) {
        command.out.add("measure: a CharDevice.info call failed\n");
        return UMKA_KABI_EIO;
    }
    // On the CPU the provider thread used, now that the ring is closed.
    uint64_t ping_pong_ns = 0;
    Status bounced =
        time_ping_pong(command, interrupt, counters.provider_cpu, rounds, &ping_pong_ns);
    if (bounced.code() == UMKA_KABI_ECANCELED) return interrupted(command);
    if (bounced.is_error()) return bounced;
    Output& out = command.out;
    out.add("ring round trip (CharDevice.info, caller cpu ").number(here).add(", provider cpu ");
    out.number(counters.provider_cpu).add("): ").number(ring_ns / rounds);
    out.add(" ns per call over ").number(rounds).add(" calls (").number(counters.doorbells);
    out.add(" doorbells)\n");
    out.add("direct call through the service slot: ").number(direct_ns / rounds);
    out.add(" ns per call; ring/direct ").ratio(ring_ns, direct_ns).add("\n");
    out.add("one cache line to cpu ").number(counters.provider_cpu).add(" and back: ");
    out.number(ping_pong_ns / rounds).add(" ns per round trip; ring/ping-pong ");
    out.ratio(ring_ns, ping_pong_ns).add("\n");
    return Status::ok();
}

}  // namespace

Status measure_command(Command& command) {
    uint64_t rounds = 0;
    if (command.word_count == 1 && same_text(command.words[0], "caps")) {
        return measure_caps(command);
    }
    if (command.word_count >= 1 && same_text(command.words[0], "switch")) {
        if (!parse_rounds(command, &rounds)) return UMKA_KABI_EINVAL;
        return measure_switch(command, rounds);
    }
    if (command.word_count >= 1 && same_text(command.words[0], "ring")) {
        if (!parse_rounds(command, &rounds)) return UMKA_KABI_EINVAL;
        return measure_ring(command, rounds);
    }
    if (command.word_count >= 1 && same_text(command.words[0], "direct")) {
        if (!parse_rounds(command, &rounds)) return UMKA_KABI_EINVAL;
        return measure_direct(command, rounds);
    }
    command.out.add(kUsage);
    return UMKA_KABI_EINVAL;
}

}  // namespace umka::workload
