#include "nucleus/evolution/evolution_service.h"

#include "nucleus/lib/log.h"
#include "nucleus/loader/module_system.h"
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

struct ControlService {
    static Status evolve(void*, const char* service_data, uint64_t service_length,
                         const char* file_data, uint64_t file_length, control::EvolveMode mode,
                         control::EvolveReport* report) {
        char service[kNameCapacity];
        char file[kNameCapacity];
        if (report == nullptr || !copy_name(service, service_data, service_length) ||
            !copy_name(file, file_data, file_length) ||
            (mode != control::EvolveMode::Swap && mode != control::EvolveMode::DryRun)) {
            return Errno::InvalidArgument;
        }
        EvolveMode engine_mode =
            mode == control::EvolveMode::DryRun ? EvolveMode::DryRun : EvolveMode::Swap;
        EvolveReport result =
            evolution::evolve(EvolveRequest{service, file, engine_mode}, StateCheck::Skip);
        if (result.status.error() == Errno::Busy && result.log_sequence == 0) return Errno::Busy;
        if (result.status.is_error()) {
            log("evolution: %s -> %s refused in %s: %s\n", service, file, phase_name(result.phase),
                result.reason.text());
        }
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
