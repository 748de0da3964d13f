// Console commands of live evolution: `evolve [--dry-run] <service> <file>`, `evolve cycle
// <service> <fileA> <fileB> <count>` (repeated A -> B -> A swaps through the
// evolution.EvolutionControl interface, with pause statistics) and `history` (the log,
// with its chain checked).
#include "nucleus/evolution/evolution_commands.h"

#include "nucleus/evolution/evolution_service.h"
#include "nucleus/lib/format.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/sched/policy_swap.h"
#include "nucleus/time/clock.h"
#include "umka/kabi/evolution.hpp"

namespace umka::evolution {
namespace {

namespace control = umka::kabi::evolution;

constexpr size_t kWordCapacity = loader::kFileNameCapacity;
constexpr size_t kMaximumWords = 6;
constexpr uint32_t kMaximumCycles = 5000;

struct Words {
    char text[kMaximumWords][kWordCapacity];
    size_t count;
    bool too_long;
};

Words split(const char* arguments) {
    Words words{};
    const char* cursor = arguments;
    while (*cursor != '\0') {
        while (*cursor == ' ') ++cursor;
        if (*cursor == '\0') break;
        size_t length = 0;
        while (cursor[length] != '\0' && cursor[length] != ' ') ++length;
        if (words.count == kMaximumWords || length >= kWordCapacity) {
            words.too_long = true;
            return words;
        }
        __builtin_memcpy(words.text[words.count], cursor, length);
        words.text[words.count][length] = '\0';
        ++words.count;
        cursor += length;
    }
    return words;
}

uint64_t microseconds(uint64_t cycles) {
    return clock::cycles_to_microseconds(cycles);
}

// Tenths of a microsecond: pauses are a few microseconds.
void print_duration(console::TextOutput& out, uint64_t cycles) {
    uint64_t tenths = clock::cycles_to_nanoseconds(cycles) / 100;
    out.print("%lu.%lu us", tenths / 10, tenths % 10);
}

void print_hash(console::TextOutput& out, const uint8_t* hash, size_t bytes) {
    for (size_t index = 0; index < bytes; ++index) out.print("%02x", hash[index]);
}

void print_report(const EvolveRequest& request, const EvolveReport& report,
                  console::TextOutput& out) {
    const ModuleSwap& swap = module_swap();
    out.print("evolve %s -> %s%s\n", request.service, request.file,
              request.mode == EvolveMode::DryRun ? " (dry run)" : "");
    out.print(
        "  prepare   %8lu us  load, verify signature and ELF, check provides, bind withheld\n",
        microseconds(report.cycles.prepare));
    if (report.phase >= Phase::Validate) {
        out.print("  validate  %8lu us  dry-run import of %zu state region(s)%s\n",
                  microseconds(report.cycles.validate), report.facts.states_carried,
                  swap.policy_swapped() ? " and the run queues" : "");
    }
    if (report.phase >= Phase::Swap) {
        out.print("  swap      pause ");
        print_duration(out, report.cycles.pause);
        out.print(" (state transfer ");
        print_duration(out, report.cycles.state_transfer);
        out.print("; gathering the CPUs took ");
        print_duration(out, report.cycles.gather);
        out.print("), %zu memory region(s) handed over\n", swap.regions_transferred());
        if (report.phase == Phase::Resume) {
            out.print(
                "  rings     %lu ring request(s) queued across the pause, served by the new "
                "module\n",
                swap.ring_requests_queued());
        }
    }
    if (report.phase == Phase::Resume) {
        if (report.old_image == OldImage::Unloaded) {
            out.print("  resume    %8lu us  old image unloaded (no CPU or task can run it)\n",
                      microseconds(report.cycles.resume));
        } else {
            out.print("  resume    %8lu us  old image parked: task %u %s\n",
                      microseconds(report.cycles.resume), swap.last_scan_task(),
                      swap.last_scan() == sched::CodeUse::InUse ? "may still run it"
                                                                : "could not be checked");
        }
    }
    if (report.phase >= Phase::Swap && swap.policy_swapped()) {
        sched::PolicySwapFacts facts = sched::policy_swap_facts();
        if (facts.tasks_compared > 0) {
            out.print(
                "  scheduler: task state v%u -> v%u, %u tasks and %u run queues migrated and "
                "checked identical (check ",
                facts.old_task_version, facts.new_task_version, facts.tasks_compared,
                facts.queues_compared);
            print_duration(out, facts.check_cycles);
            out.print(" of the pause)\n");
        }
    }
    if (report.phase == Phase::Resume && report.status.is_ok()) {
        if (report.start_status.is_ok()) {
            out.print("  start     the new module started (after the pause)\n");
        } else {
            out.print("  start     failed: %s (%s); the new module keeps serving\n",
                      report.start_reason.text(), errno_name(report.start_status.error()));
        }
    }
    out.print("  total     %8lu us\n", microseconds(report.cycles.total));
    if (report.status.is_error()) {
        // A module that was found keeps serving; an unknown name changed nothing either.
        const char* outcome = report.facts.old_version != 0 ? "still serving" : "nothing changed";
        out.print("evolve: refused in %s: %s (%s); '%s': %s\n", phase_name(report.phase),
                  report.reason.text(), errno_name(report.status.error()), request.service,
                  outcome);
    } else {
        out.print("evolve: %s (log entry %lu)\n", log_outcome_name(report.outcome),
                  report.log_sequence);
    }
    if (report.parked_images > 0)
        out.print("evolve: %zu old image(s) parked\n", report.parked_images);
}

// Statistics over `count` samples (sorted in place).
struct Spread {
    uint64_t minimum;
    uint64_t median;
    uint64_t maximum;
};

Spread spread_of(uint64_t* samples, size_t count) {
    for (size_t index = 1; index < count; ++index) {
        uint64_t value = samples[index];
        size_t place = index;
        while (place > 0 && samples[place - 1] > value) {
            samples[place] = samples[place - 1];
            --place;
        }
        samples[place] = value;
    }
    return Spread{samples[0], samples[count / 2], samples[count - 1]};
}

void print_spread(console::TextOutput& out, const char* what, uint64_t* samples, size_t count) {
    Spread spread = spread_of(samples, count);
    out.print("  %-15s min ", what);
    print_duration(out, spread.minimum);
    out.print("  median ");
    print_duration(out, spread.median);
    out.print("  max ");
    print_duration(out, spread.maximum);
    out.print("\n");
}

// Swaps A -> B -> A `count` times through evolution.EvolutionControl, as a test or a
// workload would.
void cycle(const Words& words, console::TextOutput& out) {
    uint32_t count = 0;
    const char* digit = words.text[4];
    while (*digit >= '0' && *digit <= '9') count = count * 10 + uint32_t(*digit++ - '0');
    if (*digit != '\0' || count == 0 || count > kMaximumCycles) {
        out.print("usage: evolve cycle <service> <fileA> <fileB> <count 1..%u>\n", kMaximumCycles);
        return;
    }
    Result<UmkaServiceSlot*> slot =
        loader::module_system().registry().find("evolution", "EvolutionControl", nullptr);
    control::EvolutionControlRef evolution;
    if (slot.is_error() || umka::kabi::bind_service(slot.value(), &evolution).is_error()) {
        out.print("evolve: evolution.EvolutionControl is not published\n");
        return;
    }
    size_t swaps = size_t(count) * 2;
    Result<void*> memory = loader::allocate_zeroed(3 * swaps * sizeof(uint64_t));
    if (memory.is_error()) {
        out.print("evolve: no memory for %zu samples\n", swaps);
        return;
    }
    uint64_t* pauses = static_cast<uint64_t*>(memory.value());
    uint64_t* transfers = pauses + swaps;
    uint64_t* totals = transfers + swaps;
    const char* service = words.text[1];
    size_t done = 0;
    size_t parked = 0;
    for (; done < swaps; ++done) {
        const char* file = words.text[2 + done % 2];
        control::EvolveReport report{};
        umka::kabi::Status status =
            evolution.evolve(service, __builtin_strlen(service), file, __builtin_strlen(file),
                             control::EvolveMode::Swap, &report);
        if (status.is_error() || report.outcome == control::EvolveOutcome::Refused) {
            out.print("evolve cycle: swap %zu (-> %s) refused: %s; the nucleus log says why\n",
                      done + 1, file,
                      errno_name(Errno(status.is_error() ? status.code() : int32_t(report.error))));
            break;
        }
        parked += report.outcome == control::EvolveOutcome::SwappedParked ? 1 : 0;
        pauses[done] = report.pause_cycles;
        transfers[done] = report.state_transfer_cycles;
        totals[done] = report.total_cycles;
    }
    out.print("evolve cycle: %zu of %zu swaps of %s done (%zu left an image parked)\n", done, swaps,
              service, parked);
    if (done > 0) {
        print_spread(out, "pause", pauses, done);
        print_spread(out, "state transfer", transfers, done);
        print_spread(out, "whole swap", totals, done);
    }
    loader::free_zeroed(memory.value());
}

}  // namespace

void evolve_command(const char* arguments, console::TextOutput& out) {
    Words words = split(arguments);
    if (!words.too_long && words.count == 5 && __builtin_strcmp(words.text[0], "cycle") == 0) {
        cycle(words, out);
        return;
    }
    bool dry_run = words.count > 0 && __builtin_strcmp(words.text[0], "--dry-run") == 0;
    size_t first = dry_run ? 1 : 0;
    if (words.too_long || words.count != first + 2) {
        out.print(
            "usage: evolve [--dry-run] <service> <bundle-file> | evolve cycle <service> "
            "<fileA> <fileB> <count>\n");
        return;
    }
    EvolveRequest request{words.text[first], words.text[first + 1],
                          dry_run ? EvolveMode::DryRun : EvolveMode::Swap};
    EvolveReport report = evolve(request, sched::StateCheck::CompareEveryTask);
    print_report(request, report, out);
}

void history_command(const char*, console::TextOutput& out) {
    const EvolutionLog& log = evolution_log();
    if (log.count() == 0) {
        out.print("history: no evolution yet\n");
        return;
    }
    constexpr size_t kShown = 24;
    size_t first = log.count() > kShown ? log.count() - kShown : 0;
    out.print(
        "  seq   time-us      service          new file                 versions  outcome"
        "                     old-image  new-image  entry-hash\n");
    for (size_t index = first; index < log.count(); ++index) {
        const LogEntry& entry = log.entry(index);
        out.print("%5lu %10lu  %-16s %-24s %3u -> %-3u %-27s ", entry.sequence, entry.time_us,
                  entry.service, entry.new_module, entry.old_version, entry.new_version,
                  log_outcome_name(entry.outcome));
        print_hash(out, entry.old_image_hash, 4);
        out.print("   ");
        print_hash(out, entry.new_image_hash, 4);
        out.print("   ");
        print_hash(out, entry.hash, 8);
        out.print("\n");
    }
    ChainCheck check = log.verify();
    if (check.valid) {
        out.print("history: %zu entries (last %zu shown), hash chain valid, head ", log.count(),
                  log.count() - first);
        print_hash(out, log.entry(log.count() - 1).hash, kHashSize);
        out.print("\n");
    } else {
        out.print("history: hash chain BROKEN at entry %lu: the log was altered\n",
                  log.entry(check.first_bad).sequence);
    }
}

}  // namespace umka::evolution
