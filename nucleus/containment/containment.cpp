// Guarded calls, fault containment and restart (see containment.h).
#include "nucleus/containment/containment.h"

#include <arch/cpu.h>
#include <arch/recovery.h>

#include <atomic>

#include "nucleus/containment/fault_injection.h"
#include "nucleus/containment/memory_domain.h"
#include "nucleus/evolution/evolution_service.h"
#include "nucleus/interrupts/device_interrupts.h"
#include "nucleus/lib/format.h"
#include "nucleus/lib/log.h"
#include "nucleus/lib/spinlock.h"
#include "nucleus/lib/verify.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/module/module_binder.h"
#include "nucleus/ring/ring_bindings.h"
#include "nucleus/sched/scheduler.h"
#include "nucleus/smp/cpu_table.h"
#include "nucleus/time/clock.h"
#include "umka/number_text.h"

namespace umka::containment {
namespace {

struct RecoveryPoint {
    arch::RecoveryContext context;
    RecoveryPoint* outer;
    ContainedFault* fault;
    CrashPhase phase;
};

constinit SpinLock book_lock{LockLevel::CrashBook};

// Per CPU: when its outermost guarded call began (cycles, 0 outside one), the module it
// entered, and whether the watchdog sent it an NMI that its handler has not taken yet. The
// tick that sends the NMI writes the limit it found over and the fault's name first, so
// the NMI handler reads them without a lock.
struct Watch {
    std::atomic<uint64_t> entered_cycles{0};
    std::atomic<const char*> module{nullptr};
    std::atomic<uint8_t> nmi_sent{0};
    uint64_t overdue_limit_ns = 0;
    char fault_name[kFaultNameBytes] = {};
};
constinit Watch watches[kWatchedCpus];
constinit CrashBook book;
// Threads waiting for another thread's restart of a module they saw crash.
constinit sched::WaitQueue restarts_finished;

// How often a restart is tried while another evolution holds the engine.
constexpr uint32_t kBusyRetries = 500;
constexpr uint64_t kBusyRetryNs = 2'000'000;

const loader::ModuleRecord* module_executing(uint64_t address) {
    loader::ModuleSystem& system = loader::module_system();
    if (!system.initialized()) return nullptr;
    for (size_t index = 0; index < system.record_count(); ++index) {
        const loader::ModuleRecord& record = system.record(index);
        if (record.image_loaded && record.image.executes(reinterpret_cast<const void*>(address))) {
            return &record;
        }
    }
    return nullptr;
}

// The frame rule of containment.h: the module's own frames at the bottom, then only
// nucleus frames up to the guarded call.
struct FrameCheck {
    const loader::ModuleRecord* module;
    bool above_module = false;
    uint64_t refused_address = 0;
    const char* refusal = nullptr;
};

bool accept_frame(void* context, uint64_t address) {
    auto& check = *static_cast<FrameCheck*>(context);
    if (check.module->image.executes(reinterpret_cast<const void*>(address))) {
        if (!check.above_module) return true;
        check.refusal = "the module was re-entered from nucleus code";
    } else if (module_executing(address) != nullptr) {
        check.refusal = "another module's frame lies between the fault and the guarded call";
    } else {
        check.above_module = true;
        return true;
    }
    check.refused_address = address;
    return false;
}

RecoveryPoint* innermost_point() {
    sched::Task* task = sched::current_task();
    return task == nullptr ? nullptr : static_cast<RecoveryPoint*>(task->recovery_point);
}

void call_fault_site(void* argument) {
    auto* armed = static_cast<ArmedFault*>(argument);
    armed->site(site_kind(armed->kind), armed->target);
}

uint64_t cycles_now() {
    return arch::read_cycle_counter();
}

// What an injected fault's site runs in place of, and where a crash was ("in " + this).
const char* replaced_by_site(CrashPhase phase) {
    switch (phase) {
    case CrashPhase::Call:
        return "a call";
    case CrashPhase::StartUp:
        return "its start";
    case CrashPhase::Thread:
        return "a thread's entry";
    case CrashPhase::Handler:
        return "its interrupt handler";
    }
    return "?";
}

const char* phase_prefix(CrashPhase phase) {
    switch (phase) {
    case CrashPhase::Call:
        return "";
    case CrashPhase::StartUp:
        return "the start-up of ";
    case CrashPhase::Thread:
        return "a thread of ";
    case CrashPhase::Handler:
        return "the interrupt handler of ";
    }
    return "";
}

// A failed module keeps its code and state (its ring bindings answer ENODEV from now on,
// before any of its code runs) but not its interrupt lines: they are masked and unbound, so a
// device it drove is left to whoever takes over (the nucleus console reads the UART itself).
void release_failed(const char* module) {
    loader::mark_provider_failed(module);
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

}  // namespace

namespace {

// The one way into a guarded call. A request (CrashPhase::Call) runs with interrupts off, on
// one CPU, under the watchdog's per-CPU stamp, and takes an armed call fault; a start-up runs
// with interrupts as they are (a start may sleep), unwatched, and takes an armed EveryStart;
// a module thread's body and an interrupt handler run with interrupts as they are,
// unwatched, and take an armed call fault as they begin.
Status run_guarded(void (*function)(void*), void* argument, const char* module,
                   ContainedFault& fault, CrashPhase phase, UmkaFaultSiteFunction start_site) {
    sched::Task* task = sched::current_task();
    if (task == nullptr) {
        // Before the scheduler there is no task to unwind: the call is made unguarded.
        function(argument);
        return Status::ok();
    }
    RecoveryPoint point{};
    point.outer = static_cast<RecoveryPoint*>(task->recovery_point);
    point.fault = &fault;
    point.phase = phase;
    Watch* watch = nullptr;
    if (phase == CrashPhase::Call) {
        // The watchdog's stamp is per CPU, so a request must not move: interrupts are off
        // (as they are for a ring request) from here to its return.
        VERIFY(arch::save_and_disable_interrupts() == arch::InterruptState::Disabled);
        uint32_t cpu = arch::current_cpu_index();
        if (point.outer == nullptr && cpu < kWatchedCpus) watch = &watches[cpu];
    }
    task->recovery_point = &point;
    if (watch != nullptr) {
        watch->module.store(module, std::memory_order_relaxed);
        watch->entered_cycles.store(cycles_now() | 1, std::memory_order_release);
    }
    uint64_t recovered;
    ArmedFault armed;
    bool injected = module != nullptr &&
                    (phase == CrashPhase::StartUp ? start_fault_armed(module, start_site, armed)
                                                  : take_armed_fault(module, armed));
    if (injected) {
        if (armed.scribbled != 0) {
            log("containment: the state of '%s' overwritten (%lu bytes)\n", module,
                armed.scribbled);
        }
        log("containment: injecting fault %u into '%s' (its fault site, in place of %s)\n",
            armed.kind, module, replaced_by_site(phase));
        {
            ModuleDomain domain;
            recovered = arch_guarded_call(&point.context, call_fault_site, &armed);
        }
        if (armed.kind == UMKA_FAULT_WILD_WRITE) {
            log("containment: the wild write into the nucleus at %p %s\n",
                reinterpret_cast<void*>(armed.target),
                wild_write_target_intact() ? "did not land: the word holds its value"
                                           : "landed: the word was overwritten");
        }
    } else {
        ModuleDomain domain;
        recovered = arch_guarded_call(&point.context, function, argument);
    }
    if (watch != nullptr) watch->entered_cycles.store(0, std::memory_order_release);
    task->recovery_point = point.outer;
    return recovered == 0 ? Status::ok() : Status(Errno::IoError);
}

struct StartCall {
    modules::ModuleBindingBlock* block;
    const char* module;
    modules::Diagnostic* diagnostic;
    Status status;
};

void run_start(void* argument) {
    auto& call = *static_cast<StartCall*>(argument);
    call.status = modules::start_module(*call.block, call.module, *call.diagnostic);
}

struct ThreadCall {
    int32_t (*entry)(uint64_t);
    uint64_t argument;
    int32_t result;
};

void run_thread(void* argument) {
    auto& call = *static_cast<ThreadCall*>(argument);
    call.result = call.entry(call.argument);
}

}  // namespace

Status guarded_module_call(void (*function)(void*), void* argument, uint32_t owner,
                           CrashPhase phase) {
    const loader::ModuleRecord* module = loader::module_system().record_of_owner(owner);
    if (module == nullptr || !module->image_loaded) {
        function(argument);
        return Status::ok();
    }
    ContainedFault fault;
    Status ran =
        run_guarded(function, argument, module->image.manifest_view.name(), fault, phase, nullptr);
    if (ran.is_ok()) return ran;
    (void)recover(fault);
    return ran;
}

int32_t run_module_thread(int32_t (*entry)(uint64_t), uint64_t argument) {
    // The module that spawned it, by the owner the task carries.
    sched::Task* task = sched::current_task();
    ThreadCall call{entry, argument, 0};
    if (task == nullptr) return entry(argument);
    Status ran = guarded_module_call(run_thread, &call, task->owner, CrashPhase::Thread);
    return ran.is_ok() ? call.result : int32_t(Errno::IoError);
}

Status guarded_call(void (*function)(void*), void* argument, const char* module,
                    ContainedFault& fault) {
    return run_guarded(function, argument, module, fault, CrashPhase::Call, nullptr);
}

Status guarded_start(loader::ModuleRecord& record, modules::Diagnostic& diagnostic,
                     uint64_t& crash_sequence) {
    crash_sequence = 0;
    const char* module = record.image.manifest_view.name();
    StartCall call{record.binding, module, &diagnostic, Status::ok()};
    ContainedFault fault;
    Status ran =
        run_guarded(run_start, &call, module, fault, CrashPhase::StartUp, record.image.fault_site);
    if (ran.is_ok()) return call.status;
    crash_sequence = fault.sequence;
    return modules::refuse(diagnostic, Errno::IoError, "start of '%s' crashed (crash %lu)", module,
                           static_cast<unsigned long>(fault.sequence));
}

bool contain_fault(const arch::FaultFacts& facts, arch::TrapFrame& frame) {
    uint64_t fault_cycles = cycles_now();
    const loader::ModuleRecord* module = module_executing(facts.instruction);
    if (module == nullptr) return false;  // nucleus code: the machine stops
    const char* name = module->image.manifest_view.name();
    RecoveryPoint* point = innermost_point();
    if (point == nullptr) {
        log("containment: fault in '%s' outside any guarded call (a direct call or one of its "
            "threads): not contained\n",
            name);
        return false;
    }
    FrameCheck check{module};
    if (!arch::walk_frames_to(facts.frame_pointer, facts.stack_pointer, point->context.stack,
                              accept_frame, &check)) {
        log("containment: fault in '%s' not contained: %s (at %p)\n", name,
            check.refusal != nullptr ? check.refusal : "its frame chain is broken",
            reinterpret_cast<void*>(check.refused_address));
        return false;
    }
    uint64_t offset = facts.instruction - reinterpret_cast<uint64_t>(module->image.base);
    char symbol[kSymbolBytes] = {};
    uint64_t symbol_offset = 0;
    const bundle::Entry* file = loader::module_system().inventory().find(module->file);
    if (file == nullptr || !modules::function_at(file->data, file->size, offset, symbol,
                                                 sizeof symbol, symbol_offset)) {
        symbol[0] = '\0';
    }
    CrashFacts crash{name,
                     clock::cycles_to_nanoseconds(fault_cycles),
                     facts.vector,
                     facts.name,
                     facts.instruction,
                     offset,
                     facts.fault_address,
                     facts.error_code,
                     arch::current_cpu_index(),
                     symbol,
                     point->phase};
    ContainedFault& fault = *point->fault;
    {
        SpinLockGuard guard(book_lock);
        fault.decision = book.record_crash(crash, fault.sequence);
    }
    fault.fault_cycles = fault_cycles;
    for (size_t index = 0; index < kNameBytes; ++index) {
        fault.module[index] = name[index];
        if (name[index] == '\0') break;
    }
    fault.module[kNameBytes - 1] = '\0';
    log("containment: crash %lu: %s in %s'%s' at %p (%s+0x%lx%s%s+0x%lx) cr2 %p error 0x%lx "
        "on cpu %u\n",
        fault.sequence, facts.name, phase_prefix(point->phase), name,
        reinterpret_cast<void*>(facts.instruction), name, offset, symbol[0] != '\0' ? ", " : "",
        symbol, symbol_offset, reinterpret_cast<void*>(facts.fault_address), facts.error_code,
        crash.cpu);
    arch::resume_from_fault(frame, point->context);
    return true;
}

namespace {

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
                                     evolution::RefusedState::StartFresh};
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
        uint64_t recovery_ns = clock::cycles_to_nanoseconds(cycles_now()) - fault_ns;
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

void set_watchdog_limit(const char* module, uint32_t milliseconds) {
    uint64_t limit = milliseconds == 0 ? kWatchdogNs : milliseconds * 1'000'000ull;
    bool recorded;
    {
        SpinLockGuard guard(book_lock);  // a leaf: the log comes after it
        recorded = book.set_watchdog_limit(module, limit);
    }
    if (!recorded) {
        log("containment: no room for the watchdog limit of '%s'; it gets %lu ms\n", module,
            static_cast<unsigned long>(kWatchdogNs / 1'000'000ull));
    }
}

void watch_guarded_calls() {
    uint32_t self = arch::current_cpu_index();
    uint32_t count = cpu_table().count();
    if (count > kWatchedCpus) count = kWatchedCpus;
    uint64_t now = cycles_now();
    for (uint32_t cpu = 0; cpu < count; ++cpu) {
        if (cpu == self) continue;
        Watch& watch = watches[cpu];
        uint64_t entered = watch.entered_cycles.load(std::memory_order_acquire);
        if (entered == 0 || now < entered ||
            clock::cycles_to_nanoseconds(now - entered) < kMinimumWatchdogNs) {
            continue;
        }
        // Rare: only a call already past the shortest limit a manifest may ask for.
        uint64_t limit;
        {
            SpinLockGuard guard(book_lock);
            limit = book.watchdog_limit_ns(watch.module.load(std::memory_order_relaxed));
        }
        if (limit == 0) limit = kWatchdogNs;
        if (clock::cycles_to_nanoseconds(now - entered) < limit) continue;
        // One tick wins the right to send; it writes what the handler reads, then sends.
        if (watch.nmi_sent.exchange(1, std::memory_order_acq_rel) != 0) continue;
        watch.overdue_limit_ns = limit;
        format(watch.fault_name, sizeof watch.fault_name, "watchdog: over %lu ms",
               static_cast<unsigned long>(limit / 1'000'000ull));
        std::atomic_thread_fence(std::memory_order_release);
        arch::interrupt_with_nmi(cpu_table()[cpu].hardware_id);
    }
}

WatchdogNmi watchdog_nmi_here(const char*& fault_name) {
    uint32_t cpu = arch::current_cpu_index();
    if (cpu >= kWatchedCpus || watches[cpu].nmi_sent.exchange(0, std::memory_order_acq_rel) == 0) {
        return WatchdogNmi::None;
    }
    uint64_t entered = watches[cpu].entered_cycles.load(std::memory_order_acquire);
    uint64_t now = cycles_now();
    if (entered == 0 || now < entered ||
        clock::cycles_to_nanoseconds(now - entered) < watches[cpu].overdue_limit_ns) {
        return WatchdogNmi::Late;
    }
    fault_name = watches[cpu].fault_name;
    // The call ends here either way (contained, or the machine stops). Cleared now, so
    // another CPU's tick that read the old stamp sends at most one NMI more, which finds
    // no call under way and is Late.
    watches[cpu].entered_cycles.store(0, std::memory_order_release);
    return WatchdogNmi::Overdue;
}

Health health_of(const char* module) {
    SpinLockGuard guard(book_lock);
    return book.health_of(module);
}

// For containment_service.cpp: the book under its lock.
void read_book(void (*reader)(const CrashBook& book, void* context), void* context) {
    SpinLockGuard guard(book_lock);
    reader(book, context);
}

}  // namespace umka::containment
