// The live evolution protocol (docs/evolution.md, DESIGN.md §9) as a state machine:
//
//   Prepare  -> load, verify and bind the replacement withheld (outside the pause)
//   Validate -> build the replacement's state from a snapshot of the old one (its import,
//               the scheduler's attach/import_states and their consistency checks run
//               here, outside the pause); the module may refuse
//   Swap     -> the stop-the-world pause: check the old state still equals the snapshot
//               (import it again only if not), store the new records, switch service
//               hooks, hand over memory ownership
//   Resume   -> retire the old records; unload the old image once nothing can run it
//
// The engine orders the phases, times them, turns every failure before Swap into a
// refusal with the old module untouched (the environment abandons the replacement), and
// appends every attempt to the evolution log. Everything that touches modules, CPUs or
// memory is behind Environment, so the host tests drive every abort path.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/evolution/evolution_log.h"
#include "nucleus/evolution/state_snapshot.h"
#include "nucleus/evolution/state_transfer.h"
#include "nucleus/lib/status.h"
#include "nucleus/module/diagnostic.h"

namespace umka::evolution {

enum class Phase : uint8_t { Prepare, Validate, Swap, Resume };
const char* phase_name(Phase phase);

enum class EvolveMode : uint8_t {
    Swap,    // all four phases
    DryRun,  // stop after Validate; the replacement is discarded
};

// What became of the old image in Resume.
enum class OldImage : uint8_t {
    Kept,      // no swap happened: it still serves
    Unloaded,  // no CPU or task could still run it: its pages are gone
    Parked,    // something may still run it: kept, retried at the next evolution
};

// Whether a replacement with a lower module version than the running one may go in.
enum class DowngradePolicy : uint8_t { Refuse, Allow };

struct EvolveRequest {
    const char* service;  // the running provider module's name ("scheduler")
    const char* file;     // a file of the boot bundle ("scheduler-v2.umod")
    EvolveMode mode;
    DowngradePolicy downgrade = DowngradePolicy::Refuse;
    SwapCause cause = SwapCause::Evolve;
};

// Guest cycles per phase; the caller converts to microseconds.
struct PhaseCycles {
    uint64_t prepare;
    uint64_t validate;
    uint64_t gather;          // signalling the other CPUs until the last one stopped
    uint64_t pause;           // every CPU stopped: from the last arrival to the release
    uint64_t state_transfer;  // the part of the pause spent committing state
    uint64_t resume;
    uint64_t total;  // Prepare start to Resume end
};

// What the environment reports about the modules involved (for the report and the log).
// What the replacement's state regions began with.
enum class StateStart : uint8_t {
    Carried,  // imported (or copied) from the old instance's
    Fresh,    // zero-filled: it refused the old state (SwapCause::CrashRestart)
};

struct ModuleFacts {
    uint32_t old_version;
    uint32_t new_version;  // 0 until Prepare read the new manifest
    const uint8_t* old_image_hash;
    const uint8_t* new_image_hash;  // nullptr until Prepare read the file
    size_t states_carried;          // regions with a predecessor
    StateStart state_start;
};

struct SwapTiming {
    uint64_t gather_cycles;
    uint64_t pause_cycles;
    uint64_t transfer_cycles;
    PauseWork work = PauseWork::CommitOnly;
};

// The system side. Each call returns Status with the reason in `diagnostic`. One evolution
// at a time (the engine serialises). After a failure of prepare, validate or swap the
// engine calls abandon(), which must leave the old module exactly as it was.
class Environment {
public:
    virtual uint64_t read_cycles() = 0;
    virtual uint64_t time_microseconds() = 0;
    // Finds the running provider `service`, loads, verifies and binds `file` withheld.
    virtual Status prepare(const EvolveRequest& request, modules::Diagnostic& diagnostic) = 0;
    virtual Status validate(modules::Diagnostic& diagnostic) = 0;
    // The pause. On an error nothing has been stored: the old module still serves.
    virtual Status swap(SwapTiming& timing, modules::Diagnostic& diagnostic) = 0;
    // After the swap; cannot fail, only leave the old image parked.
    virtual OldImage resume() = 0;
    // After resume, never for a dry run or a refused swap: the new module's start function
    // (module_entry.h), where it may call other services. The swap is committed whatever
    // it returns; an error is reported, the new module keeps serving. A start the nucleus
    // contained as a crash (IoError) sets `crash_sequence` to its crash report's number: the
    // caller of evolve() then owes the module its recovery (containment::recover_start).
    virtual Status start_replacement(modules::Diagnostic& diagnostic, uint64_t& crash_sequence) = 0;
    virtual void abandon() = 0;
    // Facts about the current attempt (valid from the start of prepare to its end).
    virtual ModuleFacts facts() = 0;
    // Unloads previously parked images that nothing can run any more; how many are left.
    virtual size_t collect_parked() = 0;

protected:
    ~Environment() = default;
};

struct EvolveReport {
    Status status;  // ok for a swap or a passed dry run
    Phase phase;    // the phase that failed, or the last one run
    OldImage old_image;
    LogOutcome outcome;
    PhaseCycles cycles;
    // Swap and Resume: whether the pause found the state built in Validate still current
    // (CommitOnly) or had to import the old state again inside the pause (Rebuilt).
    PauseWork pause_work;
    ModuleFacts facts;
    size_t parked_images;   // old images still parked after this evolution
    uint64_t log_sequence;  // 0 if the log has no storage
    modules::Diagnostic reason;
    // The committed module's start (Phase::Resume only; ok when it has none).
    Status start_status;
    modules::Diagnostic start_reason;
    // Not 0: the start crashed, contained as this crash report (start_status IoError).
    uint64_t start_crash;
};

class EvolutionEngine {
public:
    constexpr EvolutionEngine() = default;
    EvolutionEngine(Environment& environment, EvolutionLog& log)
        : environment_(&environment), log_(&log) {}

    // Errno::Busy while another evolution runs (the engine's own flag: callers on other
    // CPUs are refused, never queued); Errno::InvalidArgument for an empty service or file.
    EvolveReport evolve(const EvolveRequest& request);

private:
    EvolveReport refuse_request(Errno error, const char* reason);
    void finish(EvolveReport& report, const EvolveRequest& request);

    Environment* environment_ = nullptr;
    EvolutionLog* log_ = nullptr;
    bool busy_ = false;
};

}  // namespace umka::evolution
