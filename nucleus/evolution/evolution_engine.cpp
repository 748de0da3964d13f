#include "nucleus/evolution/evolution_engine.h"

#include "nucleus/evolution/replacement_check.h"

namespace umka::evolution {

const char* phase_name(Phase phase) {
    switch (phase) {
    case Phase::Prepare:
        return "prepare";
    case Phase::Validate:
        return "validate";
    case Phase::Swap:
        return "swap";
    case Phase::Resume:
        return "resume";
    }
    return "?";
}

EvolveReport EvolutionEngine::refuse_request(Errno error, const char* reason) {
    EvolveReport report{};
    report.status = error;
    report.phase = Phase::Prepare;
    report.old_image = OldImage::Kept;
    report.outcome = LogOutcome::Refused;
    report.reason.set("%s", reason);
    return report;
}

void EvolutionEngine::finish(EvolveReport& report, const EvolveRequest& request) {
    report.facts = environment_->facts();
    if (log_ == nullptr || !log_->has_storage()) return;
    // A swap to a lower module version went through: the caller allowed the downgrade.
    Downgrade downgrade =
        report.outcome != LogOutcome::Refused && report.facts.new_version < report.facts.old_version
            ? Downgrade::Allowed
            : Downgrade::No;
    LogFields fields{environment_->time_microseconds(),
                     request.service,
                     request.file,
                     report.facts.old_version,
                     report.facts.new_version,
                     report.outcome,
                     report.facts.old_image_hash,
                     report.facts.new_image_hash,
                     downgrade};
    report.log_sequence = log_->append(fields).sequence;
}

EvolveReport EvolutionEngine::evolve(const EvolveRequest& request) {
    if (environment_ == nullptr)
        return refuse_request(Errno::NoFunction, "no evolution environment");
    if (request.service == nullptr || request.service[0] == '\0') {
        return refuse_request(Errno::InvalidArgument,
                              "no service named (the running module's name)");
    }
    if (request.file == nullptr || request.file[0] == '\0') {
        return refuse_request(Errno::InvalidArgument,
                              "no module file named (a file of the bundle)");
    }
    if (__atomic_test_and_set(&busy_, __ATOMIC_ACQUIRE)) {
        return refuse_request(Errno::Busy, "another evolution is in progress");
    }
    Environment& environment = *environment_;
    EvolveReport report{};
    report.old_image = OldImage::Kept;
    report.outcome = LogOutcome::Refused;
    // Old images parked by earlier swaps get another chance first.
    (void)environment.collect_parked();

    uint64_t start = environment.read_cycles();
    report.phase = Phase::Prepare;
    report.status = environment.prepare(request, report.reason);
    if (report.status.is_ok()) {
        ModuleFacts facts = environment.facts();
        report.status =
            check_downgrade(facts.old_version, facts.new_version, request.downgrade, report.reason);
    }
    uint64_t prepared = environment.read_cycles();
    report.cycles.prepare = prepared - start;
    if (report.status.is_ok()) {
        report.phase = Phase::Validate;
        report.status = environment.validate(report.reason);
        report.cycles.validate = environment.read_cycles() - prepared;
    }
    if (report.status.is_ok() && request.mode == EvolveMode::DryRun) {
        report.outcome = LogOutcome::DryRunPassed;
        environment.abandon();
    } else if (report.status.is_ok()) {
        report.phase = Phase::Swap;
        SwapTiming timing{};
        report.status = environment.swap(timing, report.reason);
        report.cycles.gather = timing.gather_cycles;
        report.cycles.pause = timing.pause_cycles;
        report.cycles.state_transfer = timing.transfer_cycles;
        report.pause_work = timing.work;
        if (report.status.is_ok()) {
            report.phase = Phase::Resume;
            uint64_t resumed = environment.read_cycles();
            report.old_image = environment.resume();
            report.cycles.resume = environment.read_cycles() - resumed;
            report.outcome = report.old_image == OldImage::Parked ? LogOutcome::SwappedParked
                                                                  : LogOutcome::Swapped;
            report.start_status =
                environment.start_replacement(report.start_reason, report.start_crash);
        }
    }
    if (report.status.is_error()) environment.abandon();
    report.cycles.total = environment.read_cycles() - start;
    finish(report, request);
    report.parked_images = environment.collect_parked();
    __atomic_clear(&busy_, __ATOMIC_RELEASE);
    return report;
}

}  // namespace umka::evolution
