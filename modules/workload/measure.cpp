// `measure caps | switch [ROUNDS] | ring [ROUNDS]`: what a public path costs, each beside a
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
//           (measure_pingpong.cpp: the floor of any cross-CPU call).
#include "umka/kabi/char_device.hpp"
#include "umka/kabi/nucleus_mechanism.hpp"
#include "workload.h"

namespace umka::workload {
namespace {

namespace chardev = umka::kabi::char_device;
namespace mechanism = umka::kabi::nucleus_mechanism;

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
        command.out.add("usage: measure caps | measure switch [ROUNDS] | measure ring [ROUNDS]\n");
        return false;
    }
    return parse_count(command.out, "measure", "ROUNDS", command.words[1], 1, kMaximumRounds,
                       rounds);
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
    uint64_t start = command.clock.now_ns();
    for (uint64_t round = 0; round < kCapsRounds; ++round) {
        if (round % 1024 == 0 && interrupt.poll()) return interrupted(command);
        sink += uint64_t(log.level());
    }
    uint64_t baseline = command.clock.now_ns() - start;
    start = command.clock.now_ns();
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
    // Hundredths of a nanosecond per round.
    uint64_t lookup_centi = lookups * 100 / kCapsRounds;
    uint64_t baseline_centi = baseline * 100 / kCapsRounds;
    Output& out = command.out;
    out.add("capability lookup (service_directory.Directory.provider of kernel_services.Log): ");
    out.number(lookup_centi / 100).add(".").add(lookup_centi % 100 < 10 ? "0" : "");
    out.number(lookup_centi % 100).add(" ns; baseline call (kernel_services.Log.level) ");
    out.number(baseline_centi / 100).add(".").add(baseline_centi % 100 < 10 ? "0" : "");
    out.number(baseline_centi % 100).add(" ns; ratio ").ratio(lookups, baseline);
    out.add(" (").number(kCapsRounds).add(" rounds each)\n");
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
    command.out.add("usage: measure caps | measure switch [ROUNDS] | measure ring [ROUNDS]\n");
    return UMKA_KABI_EINVAL;
}

}  // namespace umka::workload
