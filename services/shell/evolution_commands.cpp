// evolve, evolve cycle, history: live evolution through evolution.EvolutionControl
// (evolve_with, one report type for both) and the evolution log through
// introspection.EvolutionHistory.
#include "commands.h"
#include "errno_names.h"
#include "umka/number_text.h"

namespace umka::shell {
namespace {

namespace api = kabi::introspection;
namespace control = kabi::evolution;
using kabi::Status;

// Repeated swaps of `evolve cycle`: each a stop-the-world pause, so bounded.
constexpr uint64_t kMaximumCycles = 5000;

constexpr char kUsage[] =
    "usage: evolve [--dry-run] [--allow-downgrade] <service> <bundle-file> | evolve "
    "[--allow-downgrade] cycle <service> <fileA> <fileB> <count 1..5000>\n";

const char* phase_name(uint8_t phase) {
    static constexpr const char* kNames[] = {"prepare", "validate", "swap", "resume"};
    return phase < 4 ? kNames[phase] : "?";
}

const char* outcome_name(uint8_t outcome) {
    switch (outcome) {
    case 1:
        return "swapped";
    case 2:
        return "swapped, old image parked";
    case 3:
        return "dry run passed";
    case 4:
        return "refused";
    }
    return "?";
}

uint64_t length_of(const char* text) {
    uint64_t length = 0;
    while (text[length] != '\0') ++length;
    return length;
}

bool same(const char* left, const char* right) {
    uint64_t length = length_of(left);
    return length == length_of(right) && __builtin_memcmp(left, right, length) == 0;
}

template <uint64_t N>
bool field_is(const uint8_t (&field)[N], const char* text) {
    uint64_t length = Output::field_length(field, N);
    return length == length_of(text) && __builtin_memcmp(field, text, length) == 0;
}

// Tenths of a microsecond: pauses are a few microseconds.
void duration(Output& out, uint64_t nanoseconds) {
    uint64_t tenths = nanoseconds / 100;
    out.number(tenths / 10).character('.').number(tenths % 10).text(" us");
}

uint64_t microseconds(uint64_t nanoseconds) {
    return nanoseconds / 1000;
}

void print_report(const char* service, const char* file, control::EvolveMode mode,
                  const control::EvolveDetail& report, Output& out) {
    constexpr uint8_t kValidate = 1, kSwap = 2, kResume = 3;
    out.text("evolve ").text(service).text(" -> ").text(file);
    out.text(mode == control::EvolveMode::DryRun ? " (dry run)\n" : "\n");
    out.text("  prepare   ").right(microseconds(report.prepare_ns), 8);
    out.text(" us  load, verify signature and ELF, check provides, bind withheld\n");
    if (report.phase >= kValidate) {
        out.text("  validate  ").right(microseconds(report.validate_ns), 8);
        out.text(" us  built the new state from a snapshot of ").number(report.states_carried);
        out.text(" state region(s)");
        out.text(report.policy_swapped != 0 ? " and the run queues\n" : "\n");
    }
    if (report.phase >= kSwap) {
        out.text("  swap      pause ");
        duration(out, report.pause_ns);
        out.text(" (state transfer ");
        duration(out, report.state_transfer_ns);
        out.text(report.pause_rebuilt_state != 0 ? ": the state changed, imported again"
                                                 : ": the pre-built state was current");
        out.text("; gathering the CPUs took ");
        duration(out, report.gather_ns);
        out.text("), ").number(report.regions_transferred).text(" memory region(s) handed over\n");
        if (report.phase == kResume) {
            out.text("  rings     ").number(report.ring_requests_queued);
            out.text(" ring request(s) outstanding as the pause ended, served by the new module\n");
        }
    }
    if (report.phase == kResume) {
        out.text("  resume    ").right(microseconds(report.resume_ns), 8);
        if (report.old_image == control::OldImageFate::Unloaded) {
            out.text(" us  old image unloaded (no CPU or task can run it)\n");
        } else {
            out.text(" us  old image parked: task ").number(report.scan_task);
            out.text(report.scan_in_use != 0 ? " may still run it\n" : " could not be checked\n");
        }
    }
    if (report.phase >= kSwap && report.policy_swapped != 0 && report.tasks_compared > 0) {
        out.text("  scheduler: task state v").number(report.old_task_version).text(" -> v");
        out.number(report.new_task_version).text(", ").number(report.tasks_compared);
        out.text(" tasks and ").number(report.queues_compared);
        out.text(" run queues migrated and checked identical (check ");
        duration(out, report.policy_check_ns);
        out.text(" of the pause)\n");
    }
    if (report.phase == kResume && report.error == 0) {
        if (report.start_error == 0) {
            out.text("  start     the new module started (after the pause)\n");
        } else {
            out.text("  start     failed: ").field(report.start_reason).text(" (");
            out.text(errno_name(report.start_error)).text("); the new module keeps serving\n");
        }
    }
    out.text("  total     ").right(microseconds(report.total_ns), 8).text(" us\n");
    if (report.error != 0) {
        // A module that was found keeps serving; an unknown name changed nothing either.
        out.text("evolve: refused in ").text(phase_name(report.phase)).text(": ");
        out.field(report.reason).text(" (").text(errno_name(report.error)).text("); '");
        out.text(service).text("': ");
        out.text(report.old_version != 0 ? "still serving\n" : "nothing changed\n");
    } else {
        out.text("evolve: ").text(outcome_name(uint8_t(report.outcome)));
        out.text(" (log entry ").number(report.log_sequence).text(")\n");
        if (report.downgrade != 0) {
            out.text("evolve: a downgrade (module version ")
                .number(report.old_version)
                .text(" -> ");
            out.number(report.new_version).text("), allowed by --allow-downgrade\n");
        }
    }
    if (report.parked_images > 0) {
        out.text("evolve: ").number(report.parked_images).text(" old image(s) parked\n");
    }
}

// The words after `evolve`: options first, then the positional words.
struct EvolveArguments {
    bool dry_run;
    bool allow_downgrade;
    bool cycle;
    const char* positional[4];
    uint32_t positional_count;
};

bool parse(const Words& words, EvolveArguments& arguments) {
    arguments = EvolveArguments{};
    uint32_t index = 1;
    for (; index < words.count; ++index) {
        if (same(words.word[index], "--dry-run") && !arguments.dry_run) {
            arguments.dry_run = true;
        } else if (same(words.word[index], "--allow-downgrade") && !arguments.allow_downgrade) {
            arguments.allow_downgrade = true;
        } else {
            break;
        }
    }
    // `cycle` is a keyword, never a service name.
    if (index < words.count && same(words.word[index], "cycle")) {
        arguments.cycle = true;
        ++index;
    }
    for (; index < words.count; ++index) {
        if (words.word[index][0] == '-' && words.word[index][1] == '-') return false;
        if (arguments.positional_count == 4) return false;
        arguments.positional[arguments.positional_count++] = words.word[index];
    }
    if (arguments.cycle) return !arguments.dry_run && arguments.positional_count == 4;
    return arguments.positional_count == 2;
}

control::EvolveFlags flags_of(const EvolveArguments& arguments, control::EvolveFlags extra) {
    return arguments.allow_downgrade ? extra | control::EvolveFlags::AllowDowngrade : extra;
}

Status evolve_status_line(Status status, Output& out) {
    if (status.code() == UMKA_KABI_EBUSY) {
        out.text("evolve: another evolution is in progress (EBUSY)\n");
    } else {
        out.text("evolve: refused: a name is empty or longer than 63 bytes (");
        out.text(errno_name(uint32_t(status.code()))).text(")\n");
    }
    return UMKA_KABI_EINVAL;
}

// Sorts `count` samples in place and prints min, median and max.
void print_spread(Output& out, const char* what, uint64_t* samples, uint64_t count) {
    for (uint64_t index = 1; index < count; ++index) {
        uint64_t value = samples[index];
        uint64_t place = index;
        while (place > 0 && samples[place - 1] > value) {
            samples[place] = samples[place - 1];
            --place;
        }
        samples[place] = value;
    }
    out.text("  ").left(what, 15).text(" min ");
    duration(out, samples[0]);
    out.text("  median ");
    duration(out, samples[count / 2]);
    out.text("  max ");
    duration(out, samples[count - 1]);
    out.character('\n');
}

// Which of A and B runs now: the cycle starts with the other. Index 0 or 1, or -1.
int32_t running_file(const Services& services, const char* service, const char* a, const char* b) {
    uint32_t count = services.modules.module_count();
    for (uint32_t index = 0; index < count; ++index) {
        api::ModuleRecord record{};
        if (services.modules.module(index, &record).is_error()) continue;
        if (record.state != api::ModuleState::Loaded || !field_is(record.name, service)) continue;
        if (field_is(record.file, a)) return 0;
        if (field_is(record.file, b)) return 1;
        return -1;
    }
    return -1;
}

Status cycle(const Services& services, const EvolveArguments& arguments, Output& out) {
    const char* service = arguments.positional[0];
    const char* files[2] = {arguments.positional[1], arguments.positional[2]};
    ParsedNumber count = parse_unsigned(arguments.positional[3], kMaximumCycles);
    if (!count.ok() || count.value == 0) {
        out.text("evolve cycle: the count must be 1..5000\n").text(kUsage);
        return UMKA_KABI_EINVAL;
    }
    if (services.modules.vtable() == nullptr || services.memory.vtable() == nullptr) {
        out.text(
            "evolve cycle: introspection.Modules or kernel_services.ModuleMemory is not bound\n");
        return Status::ok();
    }
    int32_t running = running_file(services, service, files[0], files[1]);
    if (running < 0) {
        out.text("evolve cycle: no running '").text(service).text("' was loaded from ");
        out.text(files[0]).text(" or ").text(files[1]);
        out.text(": a cycle swaps between the running file and the other\n");
        return UMKA_KABI_EINVAL;
    }
    uint64_t swaps = count.value * 2;
    kabi::kernel_services::MemoryRegion region{};
    kabi::kernel_services::RegionInfo info{};
    if (services.memory
            .allocate(4 * swaps * sizeof(uint64_t), kabi::kernel_services::MemoryFlags::Zeroed,
                      &region)
            .is_error()) {
        out.text("evolve cycle: no memory for ").number(swaps).text(" samples\n");
        return Status::ok();
    }
    if (services.memory.describe(region, &info).is_error()) {
        (void)services.memory.release(region);
        out.text("evolve cycle: the sample memory cannot be described\n");
        return Status::ok();
    }
    auto* pauses = reinterpret_cast<uint64_t*>(info.address);
    uint64_t* transfers = pauses + swaps;
    uint64_t* totals = transfers + swaps;
    uint64_t* gathers = totals + swaps;
    uint64_t done = 0;
    uint64_t parked = 0;
    uint64_t rebuilt = 0;
    Status result = Status::ok();
    for (; done < swaps; ++done) {
        if (interrupted(services)) {
            out.text("interrupted\n");
            result = UMKA_KABI_ECANCELED;
            break;
        }
        // The first swap goes to the file that is not running: A -> B -> A ... or B -> A -> B.
        const char* file = files[(uint64_t(running) + 1 + done) % 2];
        control::EvolveDetail report{};
        Status status = services.evolution.evolve_with(
            service, length_of(service), file, length_of(file), control::EvolveMode::Swap,
            flags_of(arguments, control::EvolveFlags(0)), &report);
        if (status.is_error() || report.outcome == control::EvolveOutcome::Refused) {
            out.text("evolve cycle: swap ").number(done + 1).text(" (-> ").text(file);
            out.text(") refused: ");
            if (status.is_error()) {
                out.text(errno_name(uint32_t(status.code())));
            } else {
                out.field(report.reason).text(" (").text(errno_name(report.error)).character(')');
            }
            out.character('\n');
            break;
        }
        parked += report.outcome == control::EvolveOutcome::SwappedParked ? 1 : 0;
        pauses[done] = report.pause_ns;
        transfers[done] = report.state_transfer_ns;
        totals[done] = report.total_ns;
        gathers[done] = report.gather_ns;
        rebuilt += report.pause_rebuilt_state;
    }
    out.text("evolve cycle: ").number(done).text(" of ").number(swaps).text(" swaps of ");
    out.text(service).text(" done (").number(parked).text(" left an image parked)\n");
    if (done > 0) {
        print_spread(out, "pause", pauses, done);
        print_spread(out, "state transfer", transfers, done);
        print_spread(out, "gathering", gathers, done);
        print_spread(out, "whole swap", totals, done);
        out.text("  the pre-built state was current in ").number(done - rebuilt).text(" of ");
        out.number(done).text(" pauses (the others imported it again inside the pause)\n");
    }
    (void)services.memory.release(region);
    return result;
}

}  // namespace

Status evolve(const Services& services, const Words& words, Output& out) {
    EvolveArguments arguments;
    if (!parse(words, arguments)) {
        out.text(kUsage);
        return UMKA_KABI_EINVAL;
    }
    if (!bound(services.evolution.vtable(), "evolve", "evolution.EvolutionControl", out)) {
        return Status::ok();
    }
    if (arguments.cycle) return cycle(services, arguments, out);
    const char* service = arguments.positional[0];
    const char* file = arguments.positional[1];
    control::EvolveMode mode =
        arguments.dry_run ? control::EvolveMode::DryRun : control::EvolveMode::Swap;
    control::EvolveDetail report{};
    Status status = services.evolution.evolve_with(
        service, length_of(service), file, length_of(file), mode,
        flags_of(arguments, control::EvolveFlags::CompareTasks), &report);
    if (status.is_error()) return evolve_status_line(status, out);
    print_report(service, file, mode, report, out);
    return Status::ok();
}

Status history(const Services& services, const Words&, Output& out) {
    if (!bound(services.history.vtable(), "history", "introspection.EvolutionHistory", out)) {
        return Status::ok();
    }
    uint32_t count = services.history.entry_count();
    if (count == 0) {
        out.text("history: no evolution yet\n");
        return Status::ok();
    }
    constexpr uint32_t kShown = 24;
    uint32_t first = count > kShown ? count - kShown : 0;
    out.text(
        "  seq   time-us      service          new file                 versions  outcome"
        "                     old-image  new-image  entry-hash\n");
    for (uint32_t index = first; index < count; ++index) {
        api::EvolutionEntry entry{};
        if (services.history.entry(index, &entry).is_error()) continue;
        out.right(entry.sequence, 5).character(' ').right(entry.time_us, 10).text("  ");
        out.left_field(entry.service, 16).character(' ').left_field(entry.new_module, 24);
        out.character(' ')
            .right(entry.old_version, 3)
            .text(" -> ")
            .left_number(entry.new_version, 3);
        out.character(' ').left(outcome_name(uint8_t(entry.outcome)), 27).character(' ');
        out.hex_bytes(entry.old_image_hash, 4).text("   ").hex_bytes(entry.new_image_hash, 4);
        out.text("   ").hex_bytes(entry.hash, 8);
        if (entry.downgrade != 0) out.text("  downgrade");
        out.character('\n');
    }
    api::ChainCheck check{};
    if (services.history.check_chain(&check).is_error()) {
        out.text("history: the chain could not be checked\n");
        return Status::ok();
    }
    if (check.state == api::ChainState::Valid) {
        out.text("history: ").number(count).text(" entries (last ").number(count - first);
        out.text(" shown), hash chain valid, head ").hex_bytes(check.head, sizeof check.head);
        out.character('\n');
    } else {
        out.text("history: hash chain BROKEN at entry ").number(check.first_bad_sequence);
        out.text(": the log was altered\n");
    }
    return Status::ok();
}

}  // namespace umka::shell
