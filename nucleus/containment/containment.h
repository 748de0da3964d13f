// Crash containment (docs/crash-containment.md). The nucleus makes a call into a module's
// code through guarded_call(); a CPU fault raised by that module's code inside it is
// contained: the faulting CPU unwinds to the guarded call, which returns IoError, and the
// caller (a ring provider thread) answers the request with EIO and calls recover(), which
// loads a fresh instance of the module from its verified bundle file through the live
// evolution path (its state carried over) or, past the restart policy, marks it failed.
//
// A fault is contained only when it can be undone without leaving the nucleus inconsistent:
// the faulting instruction is in a loaded module's code, and every frame between it and the
// guarded call is that module's own (at the bottom) or the nucleus's dispatch code (above
// it). A module frame above a nucleus frame means nucleus code, perhaps holding a lock, was
// called by the module and called back into it: not contained, the machine stops with the
// report as before. So does every fault in nucleus code.
#pragma once

#include <stdint.h>

#include "nucleus/containment/crash_book.h"
#include "nucleus/lib/status.h"
#include "nucleus/module/diagnostic.h"
#include "nucleus/module/service_registry.h"

namespace umka::bundle {
struct Inventory;
}  // namespace umka::bundle

namespace umka::loader {
struct ModuleRecord;
}  // namespace umka::loader

namespace umka::arch {
struct FaultFacts;
struct TrapFrame;
}  // namespace umka::arch

namespace umka::containment {

// What a guarded call that returned IoError hands to recover().
struct ContainedFault {
    uint64_t sequence = 0;
    Decision decision = Decision::Fail;
    uint64_t fault_cycles = 0;
    char module[kNameBytes] = {};
};

// Runs function(argument) guarded, with interrupts off (a VERIFY). `module` is the module
// the call enters (matched against an armed fault injection; nullptr: none). IoError when a
// fault inside it was contained (`fault` says which), Ok otherwise.
Status guarded_call(void (*function)(void*), void* argument, const char* module,
                    ContainedFault& fault);

// Runs the start function of `record`, a module instance just committed by a swap (a
// restart's or a live one's) or one of the boot bundle, guarded, with interrupts as they
// are: a start may sleep, so the watchdog does not watch it. A fault in its code is
// contained like a request's (CrashPhase::StartUp): IoError, with `crash_sequence` set to
// the crash report's number, which the caller hands to recover_start(). Otherwise the
// start's own status.
Status guarded_start(loader::ModuleRecord& record, modules::Diagnostic& diagnostic,
                     uint64_t& crash_sequence);

// The body of a module's thread (kernel_services.Threads spawns it with this as its
// sched::TaskRunner): entry(argument) runs guarded, with interrupts as they are and without
// a memory domain (containment.cpp says why), for the whole life of the thread. A fault in its code
// is contained (CrashPhase::Thread): the thread recovers the module (recover()) and ends with EIO.
int32_t run_module_thread(int32_t (*entry)(uint64_t), uint64_t argument);

// A call into the code of the module that `owner` is from a nucleus thread (an interrupt
// handler: phase Handler, watched; a module thread's body: phase Thread), with interrupts as
// they are. IoError after a contained fault, once this thread has cleared its entering note
// (sched/code_scan.h) and recovered the module (which may have failed meanwhile); Ok
// otherwise, and when no loaded module is `owner` (the call then runs unguarded).
Status guarded_module_call(void (*function)(void*), void* argument, uint32_t owner,
                           CrashPhase phase);
// The same, for a caller that has the loaded module's record already (a direct call's
// dispatch found it from the method's address).
Status guarded_module_call(void (*function)(void*), void* argument,
                           const loader::ModuleRecord& module, CrashPhase phase);

// The slot `consumer` calls package.interface through, given the provider's `shared` slot:
// when the provider is a tier-1 module, a guard of the consumer's own (direct_guard.h), so
// each call runs guarded in the provider's memory domain; `shared` otherwise, and when no
// guard can be made (the log says why). One guard per consumer and shared slot: asked
// again, the same slot. For a boot module's `requires` entries (ring_bindings.cpp) and a
// module's directory lookups (service_directory.cpp).
const UmkaServiceSlot* guarded_slot(const char* consumer, const char* package,
                                    const char* interface, const UmkaServiceSlot* shared);
// At boot, before any module is bound: guards are made unless the boot manifest says
// `param containment.direct_guards=off` (for measuring their cost; logged).
void configure_direct_guards(const bundle::Inventory& inventory);
// Whether some consumer calls `provider` through a guard.
bool provider_is_guarded(const char* provider);
// `provider` failed: its guarded direct calls answer ENODEV from now on.
void mark_guards_failed(const char* provider);

// After a contained fault, in thread context with interrupts on: restarts the module (the
// caller whose crash asked for it), or waits until another caller's restart ends. A fresh
// instance that crashes in its start-up is reloaded again, each crash counted against the
// restart policy, until one starts or the module fails. The module's health afterwards:
// Running (a fresh instance serves) or Failed.
Health recover(const ContainedFault& fault);
// The same after a start outside containment's own restarts crashed (a live `evolve`'s new
// instance, or a boot start): `crash_sequence` is that crash's report number
// (EvolveReport::start_crash, guarded_start's; the report names the module).
Health recover_start(uint64_t crash_sequence);

// Called by arch on a CPU exception, with interrupts off: true when the fault was contained
// and `frame` now returns from the guarded call; false to stop the machine (the reason for a
// fault in module code that could not be contained has been logged).
bool contain_fault(const arch::FaultFacts& facts, arch::TrapFrame& frame);

// The watchdog. It watches ring requests (run with interrupts off) and interrupt handlers
// (run with them on, on their binding's pinned thread), not module threads or starts, which
// may run or sleep as long as they like. A call that never returns is stopped from another
// CPU: every timer tick looks at the task each other CPU runs, and one that has been inside
// its outermost watched call for longer than kWatchdogNs gets an NMI; its NMI handler then
// contains the call like a fault ("watchdog: ...") when the instruction it stopped is the
// module's (in nucleus code, the next tick tries again). With one CPU nothing can look (not
// contained).
// kWatchdogNs is the default; a module's manifest may set its own (`watchdog N ms`, 1 to
// 60000), which set_watchdog_limit() records when the module is bound.
inline constexpr uint64_t kWatchdogNs = 5'000'000'000ull;
inline constexpr uint64_t kMinimumWatchdogNs = 1'000'000ull;
void set_watchdog_limit(const char* module, uint32_t milliseconds);
// CPUs past this index are not watched.
inline constexpr uint32_t kWatchedCpus = 256;
void watch_guarded_calls();
// What an NMI on this CPU is to the watchdog: not its (None); its, but the call has ended, a
// new one began meanwhile, another task runs now, or an interrupt handler's call is outside
// its module's code at `instruction` (Late: nothing to do now; a call still over its limit
// is sent another NMI at the next tick); or its with the call still over the limit (Overdue:
// contain it; a request stopped outside its module's code stops the machine, as a fault
// there would).
enum class WatchdogNmi : uint8_t { None, Late, Overdue };
// Overdue: `fault_name` is "watchdog: over N ms", the limit the call ran past.
WatchdogNmi watchdog_nmi_here(uint64_t instruction, const char*& fault_name);

// The health the crash book gives `module` (Running for one that never crashed).
Health health_of(const char* module);

// Runs `reader` on the crash book under its lock (for the published Crashes interface).
void read_book(void (*reader)(const CrashBook& book, void* context), void* context);

// Sets the restart policy from the boot manifest's `param containment.crashes=N` (1..16)
// and `param containment.window_ms=M` (1..86400000), before any crash; a bad value is
// refused in the log and the default (3 within 60000 ms) stays.
void configure_policy(const bundle::Inventory& inventory);

// Publishes containment.Crashes and containment.FaultInjection (at boot).
Status publish_containment(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic);

}  // namespace umka::containment
