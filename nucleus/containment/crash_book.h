// The crash book: every contained fault, each crashed module's health, and the restart
// policy (docs/crash-containment.md). Pure: the kernel wraps it in a lock and feeds it the
// clock; the host tests drive every path with made-up times.
//
//   record_crash   a contained fault -> Restart (this caller reloads the module),
//                  AwaitRestart (another caller already is), or Fail (the third crash
//                  within the window, or a module already failed)
//   restarted      the fresh instance serves: Running again, recovery time noted
//   restart_failed the reload was refused: Failed, its errno noted
//   restart_crashed the reload's fresh instance crashed in its start-up (a crash of its own,
//                  recorded first with CrashPhase::StartUp): tried again or failed
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"

namespace umka::containment {

inline constexpr size_t kKeptReports = 16;
inline constexpr size_t kTrackedModules = 32;
// The restart policy: a module that crashes `crashes_to_fail` times within `window_ns` is
// not restarted again. The default is 3 within 60 s; the boot manifest may set another
// (`param containment.crashes=N`, `param containment.window_ms=M`: containment.cpp).
struct CrashPolicy {
    uint32_t crashes_to_fail = 3;
    uint64_t window_ns = 60'000'000'000ull;
};
inline constexpr uint32_t kMaximumCrashesToFail = 16;
inline constexpr uint64_t kMaximumCrashWindowMs = 86'400'000;  // a day
inline constexpr size_t kNameBytes = 32;
inline constexpr size_t kFaultNameBytes = 32;
inline constexpr size_t kSymbolBytes = 112;

enum class Health : uint8_t { Running = 0, Recovering = 1, Failed = 2 };
enum class Decision : uint8_t { Restart, AwaitRestart, Fail };
// What a restarted instance began with (containment.RestartState).
enum class RestartState : uint8_t { Carried = 0, Fresh = 1 };
// Where the fault was raised (containment.CrashPhase).
enum class CrashPhase : uint8_t { Call = 0, StartUp = 1, Thread = 2, Handler = 3, DirectCall = 4 };

const char* health_name(Health health);

// What the fault handler knows (strings are copied, cut to their fields).
struct CrashFacts {
    const char* module;
    uint64_t time_ns;
    uint64_t vector;
    const char* fault_name;
    uint64_t instruction;
    uint64_t offset;  // in the module's image
    uint64_t fault_address;
    uint64_t error_code;
    uint32_t cpu;
    const char* symbol;  // nullptr or "" when unknown
    CrashPhase phase = CrashPhase::Call;
};

struct CrashReport {
    uint64_t sequence;
    uint64_t time_ns;
    uint64_t vector;
    uint64_t instruction;
    uint64_t offset;
    uint64_t fault_address;
    uint64_t error_code;
    uint64_t recovery_ns;
    uint32_t cpu;
    Errno restart_error;
    Health outcome;
    RestartState restart_state;
    CrashPhase phase;
    char module[kNameBytes];
    char fault[kFaultNameBytes];
    char symbol[kSymbolBytes];
};

struct ModuleCrashes {
    char module[kNameBytes];
    Health health;
    uint32_t crashes;
    uint32_t restarts;
    uint64_t last_sequence;
    uint64_t recent_ns[kMaximumCrashesToFail];  // the latest crash times, oldest overwritten
};

class CrashBook {
public:
    constexpr CrashBook() = default;

    // Before the first crash only (the recent crash times are kept per policy). InvalidArgument
    // for a count outside 1..kMaximumCrashesToFail or a window outside 1 ms..a day.
    Status set_policy(const CrashPolicy& policy);
    const CrashPolicy& policy() const { return policy_; }

    // Records a contained fault; `sequence` receives its report's number. A start-up crash
    // of a module already Recovering is its restarter's own fresh instance crashing: counted
    // against the policy like any crash, and Restart (the restarter tries again) or Fail,
    // never AwaitRestart.
    Decision record_crash(const CrashFacts& facts, uint64_t& sequence);
    // What record_crash decided for report `sequence` (Restart or Fail: the decisions a
    // restarter acts on), its time and module. False when the report is no longer kept.
    struct Decided {
        Decision decision;
        uint64_t time_ns;
        char module[kNameBytes];
    };
    bool decision_of(uint64_t sequence, Decided& decided) const;
    // The module's fresh instance is serving: `recovery_ns` from the fault of `sequence`.
    void restarted(const char* module, uint64_t sequence, uint64_t recovery_ns,
                   RestartState state = RestartState::Carried);
    // Loading the fresh instance failed: the module is Failed.
    void restart_failed(const char* module, uint64_t sequence, Errno error);
    // The fresh instance loaded for `sequence` crashed in its start-up: that report notes
    // EIO; the module's health is the start-up crash's own (recorded before).
    void restart_crashed(uint64_t sequence);

    // Running for a module that never crashed.
    Health health_of(const char* module) const;
    size_t kept() const { return total_ < kKeptReports ? size_t(total_) : kKeptReports; }
    uint64_t total() const { return total_; }
    // index 0 is the oldest kept report; nullptr past the end.
    const CrashReport* report(size_t index) const;
    size_t module_count() const { return module_count_; }
    const ModuleCrashes* module(size_t index) const {
        return index < module_count_ ? &modules_[index] : nullptr;
    }

    // Each module's watchdog limit (its manifest's), recorded when it is bound; a later
    // record replaces it. False when the table is full. 0 from watchdog_limit_ns: none
    // recorded (nullptr or an unknown module), the caller's default applies.
    bool set_watchdog_limit(const char* module, uint64_t limit_ns);
    uint64_t watchdog_limit_ns(const char* module) const;

private:
    ModuleCrashes* find(const char* module);
    const ModuleCrashes* find(const char* module) const;
    CrashReport* report_numbered(uint64_t sequence);

    CrashReport reports_[kKeptReports]{};
    uint64_t total_ = 0;
    ModuleCrashes modules_[kTrackedModules]{};
    size_t module_count_ = 0;
    CrashPolicy policy_{};
    struct WatchdogLimit {
        char module[kNameBytes];
        uint64_t limit_ns;
    };
    WatchdogLimit watchdog_limits_[kTrackedModules]{};
    size_t watchdog_limit_count_ = 0;
};

}  // namespace umka::containment
