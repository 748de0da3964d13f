#include "nucleus/evolution/evolution_service.h"

#include "nucleus/containment/containment.h"
#include "nucleus/introspection/record_text.h"
#include "nucleus/lib/log.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/time/clock.h"
#include "umka/kabi/evolution.hpp"
#include "umka/name_copy.h"

namespace umka::evolution {
namespace {

namespace control = umka::kabi::evolution;

constinit ModuleSwap environment;
constinit EvolutionLog log_book;
constinit EvolutionEngine engine;

constexpr size_t kNameCapacity = loader::kFileNameCapacity;

// KABI strings come with a length and no terminator: taken whole or refused.
bool copy_name(char (&out)[kNameCapacity], const char* data, uint64_t length) {
    return data != nullptr && length != 0 && umka::copy_name(out, kNameCapacity, data, length);
}

// A refusal is logged on the nucleus console too: version-1 callers get no reason text.
void log_refusal(const char* service, const char* file, const EvolveReport& result) {
    if (result.status.is_error()) {
        log("evolution: %s -> %s refused in %s: %s\n", service, file, phase_name(result.phase),
            result.reason.text());
    }
}

// Runs one evolution for EvolutionControl; Busy when another runs (nothing logged then).
Result<EvolveReport> run(const char* service_data, uint64_t service_length, const char* file_data,
                         uint64_t file_length, control::EvolveMode mode, DowngradePolicy downgrade,
                         StateCheck check, char (&service)[kNameCapacity],
                         char (&file)[kNameCapacity]) {
    if (!copy_name(service, service_data, service_length) ||
        !copy_name(file, file_data, file_length) ||
        (mode != control::EvolveMode::Swap && mode != control::EvolveMode::DryRun)) {
        return Errno::InvalidArgument;
    }
    EvolveMode engine_mode =
        mode == control::EvolveMode::DryRun ? EvolveMode::DryRun : EvolveMode::Swap;
    EvolveReport result =
        evolution::evolve(EvolveRequest{service, file, engine_mode, downgrade}, check);
    if (result.status.error() == Errno::Busy && result.log_sequence == 0) return Errno::Busy;
    // Its new instance crashed in its start-up: this caller restarts it, as a crash in a
    // request makes the provider thread do (the report still says the start failed).
    if (result.start_crash != 0) (void)containment::recover_start(result.start_crash);
    return result;
}

uint64_t nanoseconds(uint64_t cycles) {
    return clock::cycles_to_nanoseconds(cycles);
}

void fill_detail(const EvolveReport& result, control::EvolveDetail& detail) {
    detail = control::EvolveDetail{};
    detail.outcome = control::EvolveOutcome(uint8_t(result.outcome));
    detail.phase = uint8_t(result.phase);
    detail.old_image = result.old_image == OldImage::Unloaded ? control::OldImageFate::Unloaded
                       : result.old_image == OldImage::Parked ? control::OldImageFate::Parked
                                                              : control::OldImageFate::Kept;
    detail.downgrade =
        result.outcome != LogOutcome::Refused && result.facts.new_version < result.facts.old_version
            ? 1
            : 0;
    detail.error = uint32_t(result.status.error());
    detail.start_error = uint32_t(result.start_status.error());
    detail.old_version = result.facts.old_version;
    detail.new_version = result.facts.new_version;
    detail.states_carried = uint32_t(result.facts.states_carried);
    detail.parked_images = uint32_t(result.parked_images);
    detail.prepare_ns = nanoseconds(result.cycles.prepare);
    detail.validate_ns = nanoseconds(result.cycles.validate);
    detail.gather_ns = nanoseconds(result.cycles.gather);
    detail.pause_ns = nanoseconds(result.cycles.pause);
    detail.state_transfer_ns = nanoseconds(result.cycles.state_transfer);
    detail.resume_ns = nanoseconds(result.cycles.resume);
    detail.total_ns = nanoseconds(result.cycles.total);
    detail.log_sequence = result.log_sequence;
    const ModuleSwap& swap = module_swap();
    if (result.phase >= Phase::Swap) {
        detail.regions_transferred = uint32_t(swap.regions_transferred());
        detail.ring_requests_queued = swap.ring_requests_queued();
        detail.policy_swapped = swap.hooks_ran() ? 1 : 0;
        detail.pause_rebuilt_state = result.pause_work == PauseWork::Rebuilt ? 1 : 0;
        if (swap.hooks_ran()) {
            PauseHookFacts facts = swap.hook_facts();
            detail.old_task_version = facts.old_item_version;
            detail.new_task_version = facts.new_item_version;
            detail.tasks_compared = facts.items_compared;
            detail.queues_compared = facts.groups_compared;
            detail.policy_check_ns = nanoseconds(facts.check_cycles);
        }
    } else if (result.phase == Phase::Validate) {
        detail.policy_swapped = swap.hooks_ran() ? 1 : 0;
    }
    if (result.old_image == OldImage::Parked) {
        detail.scan_task = swap.last_scan_task();
        detail.scan_in_use = swap.last_scan() == sched::CodeUse::InUse ? 1 : 0;
    }
    if (result.status.is_error()) introspection::copy_text(detail.reason, result.reason.text());
    if (result.start_status.is_error()) {
        introspection::copy_text(detail.start_reason, result.start_reason.text());
    }
}

struct ControlService {
    static Status evolve(void*, const char* service_data, uint64_t service_length,
                         const char* file_data, uint64_t file_length, control::EvolveMode mode,
                         control::EvolveReport* report) {
        char service[kNameCapacity];
        char file[kNameCapacity];
        if (report == nullptr) return Errno::InvalidArgument;
        Result<EvolveReport> ran = run(service_data, service_length, file_data, file_length, mode,
                                       DowngradePolicy::Refuse, StateCheck::Skip, service, file);
        if (ran.is_error()) return ran.error();
        const EvolveReport& result = ran.value();
        log_refusal(service, file, result);
        *report = control::EvolveReport{};
        report->outcome = control::EvolveOutcome(uint8_t(result.outcome));
        report->phase = uint8_t(result.phase);
        report->error = uint32_t(result.status.error());
        report->prepare_cycles = result.cycles.prepare;
        report->validate_cycles = result.cycles.validate;
        report->pause_cycles = result.cycles.pause;
        report->state_transfer_cycles = result.cycles.state_transfer;
        report->resume_cycles = result.cycles.resume;
        report->total_cycles = result.cycles.total;
        report->log_sequence = result.log_sequence;
        return Status::ok();
    }

    static Status evolve_with(void*, const char* service_data, uint64_t service_length,
                              const char* file_data, uint64_t file_length, control::EvolveMode mode,
                              control::EvolveFlags flags, control::EvolveDetail* detail) {
        constexpr uint32_t kKnown =
            uint32_t(control::EvolveFlags::AllowDowngrade | control::EvolveFlags::CompareTasks);
        if (detail == nullptr || (uint32_t(flags) & ~kKnown) != 0) return Errno::InvalidArgument;
        char service[kNameCapacity];
        char file[kNameCapacity];
        bool allow = (uint32_t(flags) & uint32_t(control::EvolveFlags::AllowDowngrade)) != 0;
        bool compare = (uint32_t(flags) & uint32_t(control::EvolveFlags::CompareTasks)) != 0;
        Result<EvolveReport> ran =
            run(service_data, service_length, file_data, file_length, mode,
                allow ? DowngradePolicy::Allow : DowngradePolicy::Refuse,
                compare ? StateCheck::CompareEveryTask : StateCheck::Skip, service, file);
        if (ran.is_error()) return ran.error();
        fill_detail(ran.value(), *detail);
        return Status::ok();
    }
};

constexpr control::EvolutionControlVtable kControlVtable =
    control::make_evolution_control_vtable<ControlService>();

}  // namespace

Status publish_evolution_control(modules::ServiceRegistry& registry,
                                 modules::Diagnostic& diagnostic) {
    Result<void*> storage = loader::allocate_zeroed(kLogCapacity * sizeof(LogEntry));
    if (storage.is_error()) {
        return modules::refuse(diagnostic, Errno::OutOfMemory, "no memory for the evolution log");
    }
    log_book = EvolutionLog(static_cast<LogEntry*>(storage.value()), kLogCapacity);
    engine = EvolutionEngine(environment, log_book);
    modules::ServiceProvider provider{
        modules::kNucleusProviderName,
        reinterpret_cast<const umka_kabi_vtable_header*>(&kControlVtable), nullptr,
        kControlVtable.version};
    return registry.publish("evolution", "EvolutionControl", provider, diagnostic).status();
}

EvolveReport evolve(const EvolveRequest& request, StateCheck check) {
    environment.set_state_check(check);
    return engine.evolve(request);
}

const EvolutionLog& evolution_log() {
    return log_book;
}
const ModuleSwap& module_swap() {
    return environment;
}

}  // namespace umka::evolution
