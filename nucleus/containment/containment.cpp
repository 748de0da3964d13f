// Guarded calls, fault containment and the watchdog (see containment.h); the restart is
// restart.cpp.
#include "nucleus/containment/containment.h"

#include <arch/cpu.h>
#include <arch/recovery.h>

#include <atomic>

#include "nucleus/containment/crash_book_access.h"
#include "nucleus/containment/fault_injection.h"
#include "nucleus/containment/memory_domain.h"
#include "nucleus/lib/format.h"
#include "nucleus/lib/log.h"
#include "nucleus/lib/spinlock.h"
#include "nucleus/lib/verify.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/module/module_binder.h"
#include "nucleus/sched/code_scan.h"
#include "nucleus/sched/scheduler.h"
#include "nucleus/smp/cpu_table.h"
#include "nucleus/time/clock.h"

namespace umka::containment {

constinit SpinLock internal::book_lock{LockLevel::CrashBook};
constinit CrashBook internal::book;
constinit sched::WaitQueue internal::restarts_finished;

namespace {

struct RecoveryPoint {
    arch::RecoveryContext context;
    RecoveryPoint* outer;
    ContainedFault* fault;
    CrashPhase phase;
};

using internal::book;
using internal::book_lock;

// Per CPU: whether the watchdog sent it an NMI that its handler has not taken yet, and for
// which task. The stamp itself is the task's (sched::Task::watched_since): a watched call
// that runs with interrupts on (an interrupt handler) may be preempted, and another task's
// request may begin and end on its CPU meanwhile. The tick that sends the NMI writes the
// task, the limit it found over and the fault's name first, so the NMI handler reads them
// without a lock.
struct Watch {
    std::atomic<sched::Task*> task{nullptr};
    std::atomic<uint8_t> nmi_sent{0};
    uint64_t overdue_limit_ns = 0;
    char fault_name[kFaultNameBytes] = {};
};
constinit Watch watches[kWatchedCpus];

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
    case CrashPhase::DirectCall:
        return "a direct call";
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
    case CrashPhase::DirectCall:
        return "a direct call into ";
    }
    return "";
}

}  // namespace

namespace {

// The one way into a guarded call. A request (CrashPhase::Call) runs with interrupts off, on
// one CPU, watched, and takes an armed call fault; an interrupt handler, and a direct call
// through the trampoline (direct_guard.h, which may sleep), run with interrupts as they are,
// watched, and take an armed call fault as they begin; a start-up runs with
// interrupts as they are (a start may sleep), unwatched, and takes an armed EveryStart; a
// module thread's body (its whole life) runs with interrupts as they are, unwatched, and
// takes an armed call fault as it begins. The watchdog stamps the task's outermost watched
// call (watch_guarded_calls).
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
    if (phase == CrashPhase::Call) {
        // A request runs on one CPU, with interrupts off (as they are for a ring request)
        // from here to its return: a live swap's pause falls between two requests.
        VERIFY(arch::save_and_disable_interrupts() == arch::InterruptState::Disabled);
    }
    bool watched = phase != CrashPhase::StartUp && phase != CrashPhase::Thread &&
                   task->watched_since.load(std::memory_order_relaxed) == 0;
    task->recovery_point = &point;
    if (watched) {
        task->watched_module.store(module, std::memory_order_relaxed);
        task->watched_phase = uint8_t(phase);
        task->watched_since.store(cycles_now() | 1, std::memory_order_release);
    }
    // A module thread's body runs without a domain. It calls the nucleus far more often than
    // a request does, and under TCG each call from a domain costs two IA32_PKRS writes, each
    // a full TLB flush: the ext2 appender thread slowed past its test's budget.
    bool in_domain = phase != CrashPhase::Thread;
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
            ModuleDomain domain(in_domain);
            recovered = arch_guarded_call(&point.context, call_fault_site, &armed);
        }
        if (armed.kind == UMKA_FAULT_WILD_WRITE) {
            log("containment: the wild write into the nucleus at %p %s\n",
                reinterpret_cast<void*>(armed.target),
                wild_write_target_intact() ? "did not land: the word holds its value"
                                           : "landed: the word was overwritten");
        }
    } else {
        ModuleDomain domain(in_domain);
        recovered = arch_guarded_call(&point.context, function, argument);
    }
    if (watched) task->watched_since.store(0, std::memory_order_release);
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
    return guarded_module_call(function, argument, *module, phase);
}

Status guarded_module_call(void (*function)(void*), void* argument,
                           const loader::ModuleRecord& module, CrashPhase phase) {
    ContainedFault fault;
    Status ran =
        run_guarded(function, argument, module.image.manifest_view.name(), fault, phase, nullptr);
    if (ran.is_ok()) return ran;
    // Out of the crashed code: a note that this thread was entering it (an interrupt
    // handler's, sched/code_scan.h) would make every pause of the restart find it in use,
    // until the restart gave up and the module failed.
    sched::clear_entering();
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
        // Only the task the CPU runs: a preempted handler is not running over its limit.
        sched::Task* task = sched::task_running_on(cpu);
        if (task == nullptr) continue;
        uint64_t entered = task->watched_since.load(std::memory_order_acquire);
        if (entered == 0 || now < entered ||
            clock::cycles_to_nanoseconds(now - entered) < kMinimumWatchdogNs) {
            continue;
        }
        // Rare: only a call already past the shortest limit a manifest may ask for.
        uint64_t limit;
        {
            SpinLockGuard guard(book_lock);
            limit = book.watchdog_limit_ns(task->watched_module.load(std::memory_order_relaxed));
        }
        if (limit == 0) limit = kWatchdogNs;
        if (clock::cycles_to_nanoseconds(now - entered) < limit) continue;
        // One tick wins the right to send; it writes what the handler reads, then sends.
        if (watch.nmi_sent.exchange(1, std::memory_order_acq_rel) != 0) continue;
        watch.task.store(task, std::memory_order_relaxed);
        watch.overdue_limit_ns = limit;
        format(watch.fault_name, sizeof watch.fault_name, "watchdog: over %lu ms",
               static_cast<unsigned long>(limit / 1'000'000ull));
        std::atomic_thread_fence(std::memory_order_release);
        arch::interrupt_with_nmi(cpu_table()[cpu].hardware_id);
    }
}

WatchdogNmi watchdog_nmi_here(uint64_t instruction, const char*& fault_name) {
    uint32_t cpu = arch::current_cpu_index();
    if (cpu >= kWatchedCpus || watches[cpu].nmi_sent.exchange(0, std::memory_order_acq_rel) == 0) {
        return WatchdogNmi::None;
    }
    // Still the task the tick saw, still in the call it saw over the limit.
    sched::Task* task = sched::task_running_on(cpu);
    if (task == nullptr || task != watches[cpu].task.load(std::memory_order_relaxed)) {
        return WatchdogNmi::Late;
    }
    uint64_t entered = task->watched_since.load(std::memory_order_acquire);
    uint64_t now = cycles_now();
    if (entered == 0 || now < entered ||
        clock::cycles_to_nanoseconds(now - entered) < watches[cpu].overdue_limit_ns) {
        return WatchdogNmi::Late;
    }
    // A handler or a direct call runs with interrupts on, so the NMI may have stopped code
    // nested on it: the timer's interrupt (the scheduler policy module's tick), or a nucleus
    // service the module called. Stopped only in its own module's code; elsewhere the stamp stays
    // and the next tick tries again. A request runs with interrupts off: anything but its module's
    // code there is a nucleus (or another module's) hang, which contain_fault refuses, and the
    // machine stops with the report.
    const loader::ModuleRecord* executing = module_executing(instruction);
    const char* watched = task->watched_module.load(std::memory_order_relaxed);
    bool in_watched_module = executing != nullptr && watched != nullptr &&
                             __builtin_strcmp(executing->image.manifest_view.name(), watched) == 0;
    if (!in_watched_module && CrashPhase(task->watched_phase) != CrashPhase::Call) {
        return WatchdogNmi::Late;
    }
    fault_name = watches[cpu].fault_name;
    // The call ends here either way (contained, or the machine stops). Cleared now, so
    // another CPU's tick that read the old stamp sends at most one NMI more, which finds
    // no call under way and is Late.
    task->watched_since.store(0, std::memory_order_release);
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
