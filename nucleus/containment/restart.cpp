// The restart side of crash containment (containment.h): the restart policy's numbers from
// the boot manifest, and recover(), which acts on the crash book's answer to a contained
// fault: restart the module through live evolution (again, while its fresh instances crash
// in their start-up), wait for another thread's restart, or mark it failed and release what
// it held.
#include <arch/cpu.h>

#include "nucleus/bundle/bundle_inventory.h"
#include "nucleus/containment/containment.h"
#include "nucleus/containment/crash_book_access.h"
#include "nucleus/evolution/evolution_service.h"
#include "nucleus/interrupts/device_interrupts.h"
#include "nucleus/lib/log.h"
#include "nucleus/lib/verify.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/ring/ring_bindings.h"
#include "nucleus/time/clock.h"
#include "umka/number_text.h"

namespace umka::containment {
namespace {

using internal::book;
using internal::book_lock;
using internal::restarts_finished;

// How often a restart is tried while another evolution holds the engine.
constexpr uint32_t kBusyRetries = 500;
constexpr uint64_t kBusyRetryNs = 2'000'000;

// A failed module keeps its code and state (its ring bindings answer ENODEV from now on,
// before any of its code runs) but not its interrupt lines: they are masked and unbound, so a
// device it drove is left to whoever takes over (the nucleus console reads the UART itself).
void release_failed(const char* module) {
    loader::mark_provider_failed(module);
    mark_guards_failed(module);
    loader::ModuleSystem& system = loader::module_system();
    for (size_t index = 0; index < system.record_count(); ++index) {
        const loader::ModuleRecord& record = system.record(index);
        if (record.state != loader::ModuleState::Loaded || !record.image_loaded ||
            __builtin_strcmp(record.image.manifest_view.name(), module) != 0) {
            continue;
        }
        size_t released = interrupts::release_owner(record.owner);
        if (released != 0) {
            log("containment: '%s' failed: %zu interrupt binding(s) released\n", module, released);
        }
    }
}

// One `param` of the restart policy: absent leaves `value` as it is; a value that is not a
// number in 1..limit is refused with the reason in the log and leaves it too.
void read_policy_parameter(const bundle::Inventory& inventory, const char* key, uint64_t limit,
                           uint64_t& value, bool& given) {
    const bundle::TextSpan* text = inventory.parameter(key);
    if (text == nullptr) return;
    ParsedNumber parsed = parse_unsigned(text->text, text->length, limit);
    if (!parsed.ok() || parsed.value == 0) {
        log("containment: param %s=%.*s refused: not a number in 1..%lu; the default stays\n", key,
            int(text->length), text->text, static_cast<unsigned long>(limit));
        return;
    }
    value = parsed.value;
    given = true;
}

}  // namespace

void configure_policy(const bundle::Inventory& inventory) {
    CrashPolicy policy;
    uint64_t crashes = policy.crashes_to_fail;
    uint64_t window_ms = policy.window_ns / 1'000'000ull;
    bool given = false;
    read_policy_parameter(inventory, "containment.crashes", kMaximumCrashesToFail, crashes, given);
    read_policy_parameter(inventory, "containment.window_ms", kMaximumCrashWindowMs, window_ms,
                          given);
    if (!given) return;
    policy.crashes_to_fail = uint32_t(crashes);
    policy.window_ns = window_ms * 1'000'000ull;
    {
        SpinLockGuard guard(book_lock);           // a leaf: the log comes after it
        VERIFY(book.set_policy(policy).is_ok());  // in range (read above), before any crash
    }
    log("containment: restart policy from the boot manifest: failed at %u crashes within %lu "
        "ms\n",
        policy.crashes_to_fail, static_cast<unsigned long>(window_ms));
}

namespace {

Health fail_past_policy(const char* module) {
    CrashPolicy policy;
    {
        SpinLockGuard guard(book_lock);
        policy = book.policy();
    }
    log("containment: '%s' failed: %u crashes within %lu ms; not restarted, its ring "
        "callers get ENODEV\n",
        module, policy.crashes_to_fail,
        static_cast<unsigned long>(policy.window_ns / 1'000'000ull));
    release_failed(module);
    restarts_finished.wake_all();
    return Health::Failed;
}

// One reload of `module` from its bundle file. `crash_sequence` receives the crash report of
// a start-up that crashed (0 otherwise).
Status reload(const char* module, const char (&file)[loader::kFileNameCapacity],
              RestartState& state, uint64_t& crash_sequence) {
    // The state may be what crashed it: one the fresh instance refuses is replaced by fresh
    // state (the log says so), rather than leaving the module failed.
    evolution::EvolveRequest request{module, file, evolution::EvolveMode::Swap,
                                     evolution::DowngradePolicy::Allow,
                                     evolution::SwapCause::CrashRestart};
    Status restarted = Errno::Busy;
    crash_sequence = 0;
    for (uint32_t attempt = 0; attempt < kBusyRetries; ++attempt) {
        evolution::EvolveReport report = evolution::evolve(request, evolution::StateCheck::Skip);
        restarted = report.status;
        if (report.facts.state_start == evolution::StateStart::Fresh) state = RestartState::Fresh;
        if (restarted.is_error() && restarted.error() == Errno::Busy && report.log_sequence == 0) {
            sched::sleep_ns(kBusyRetryNs);  // another evolution runs: wait for it
            continue;
        }
        if (restarted.is_error()) {
            log("containment: restart of '%s' from %s refused: %s\n", module, file,
                report.reason.text());
        } else if (report.start_crash != 0) {
            crash_sequence = report.start_crash;
            return Errno::IoError;
        }
        break;
    }
    return restarted;
}

// Decision::Restart: this thread loads fresh instances from the module's bundle file until
// one starts, or a crash in a fresh instance's start-up is past the policy.
Health restart(const char* module, uint64_t sequence, uint64_t fault_ns) {
    char file[loader::kFileNameCapacity] = {};
    {
        loader::ModuleSystem& system = loader::module_system();
        for (size_t index = 0; index < system.record_count(); ++index) {
            const loader::ModuleRecord& record = system.record(index);
            if (record.state == loader::ModuleState::Loaded && record.image_loaded &&
                __builtin_strcmp(record.image.manifest_view.name(), module) == 0) {
                __builtin_memcpy(file, record.file, sizeof file);
                break;
            }
        }
    }
    for (;;) {
        Status restarted = Errno::NotFound;
        RestartState state = RestartState::Carried;
        uint64_t start_crash = 0;
        if (file[0] != '\0') restarted = reload(module, file, state, start_crash);
        if (start_crash != 0) {
            CrashBook::Decided decided{};
            bool kept;
            {
                SpinLockGuard guard(book_lock);
                book.restart_crashed(sequence);
                kept = book.decision_of(start_crash, decided);
            }
            log("containment: the fresh instance of '%s' crashed in its start-up (crash %lu)\n",
                module, static_cast<unsigned long>(start_crash));
            if (!kept || decided.decision == Decision::Fail) return fail_past_policy(module);
            sequence = start_crash;
            fault_ns = decided.time_ns;
            continue;
        }
        uint64_t recovery_ns = clock::cycles_to_nanoseconds(arch::read_cycle_counter()) - fault_ns;
        {
            SpinLockGuard guard(book_lock);
            if (restarted.is_ok()) {
                book.restarted(module, sequence, recovery_ns, state);
            } else {
                book.restart_failed(module, sequence, restarted.error());
            }
        }
        restarts_finished.wake_all();
        if (restarted.is_error()) {
            log("containment: '%s' failed: its restart failed (%s)\n", module,
                errno_name(restarted.error()));
            release_failed(module);
            return Health::Failed;
        }
        log("containment: '%s' restarted from %s in %lu us (crash %lu)\n", module, file,
            static_cast<unsigned long>(recovery_ns / 1000), static_cast<unsigned long>(sequence));
        return Health::Running;
    }
}

}  // namespace

Health recover(const ContainedFault& fault) {
    if (fault.decision == Decision::Fail) return fail_past_policy(fault.module);
    if (fault.decision == Decision::AwaitRestart) {
        struct Waiting {
            const char* module;
        } waiting{fault.module};
        restarts_finished.wait(
            [](void* context) {
                return health_of(static_cast<Waiting*>(context)->module) != Health::Recovering;
            },
            &waiting);
        return health_of(fault.module);
    }
    return restart(fault.module, fault.sequence, clock::cycles_to_nanoseconds(fault.fault_cycles));
}

Health recover_start(uint64_t crash_sequence) {
    CrashBook::Decided decided{};
    bool kept;
    {
        SpinLockGuard guard(book_lock);
        kept = book.decision_of(crash_sequence, decided);
    }
    if (!kept) return Health::Failed;  // 16 newer crashes meanwhile: nothing to act on
    if (decided.decision == Decision::Fail) return fail_past_policy(decided.module);
    return restart(decided.module, crash_sequence, decided.time_ns);
}

}  // namespace umka::containment
