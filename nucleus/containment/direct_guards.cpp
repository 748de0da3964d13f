// The nucleus's guarded direct calls (direct_guard.h): the guards of the boot bundle's
// direct bindings to tier-1 modules, and umka_direct_dispatch, which the arch trampoline
// calls for each of their calls.
#include <arch/cpu.h>
#include <arch/direct_call.h>

#include "nucleus/containment/containment.h"
#include "nucleus/containment/direct_guard.h"
#include "nucleus/containment/memory_domain.h"
#include "nucleus/containment/nucleus_entry.h"
#include "nucleus/lib/log.h"
#include "nucleus/lib/recursive_spinlock.h"
#include "nucleus/lib/spinlock.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/sched/code_scan.h"
#include "nucleus/sched/scheduler.h"
#include "umka/kabi/ring_adapter_table.hpp"

namespace umka::containment {
namespace {

// Direct bindings of boot modules to tier-1 providers that go through a guard.
constexpr size_t kMaximumDirectGuards = 32;

struct GuardTable {
    SpinLock lock{LockLevel::DirectGuards};
    DirectGuard guards[kMaximumDirectGuards];
    size_t count = 0;  // guards[0, count) are in use; never shrinks
};
constinit GuardTable guard_table;
constinit bool guards_made = true;  // configure_direct_guards

const char* guarded_results(const char* package, const char* interface) {
    for (size_t index = 0; index < kabi::kGuardedResultsCount; ++index) {
        const kabi::GuardedResults& entry = kabi::kGuardedResults[index];
        if (__builtin_strcmp(entry.package, package) == 0 &&
            __builtin_strcmp(entry.interface, interface) == 0) {
            return entry.slots;
        }
    }
    return nullptr;
}

struct Invocation {
    const void* function;
    const arch::DirectCallFrame* frame;
    uint64_t result;
};

void invoke(void* argument) {
    auto& call = *static_cast<Invocation*>(argument);
    call.result = umka_direct_invoke(call.function, call.frame);
}

}  // namespace

void configure_direct_guards(const bundle::Inventory& inventory) {
    guards_made = read_switch(inventory, "containment.direct_guards") != Switch::Off;
    if (!guards_made) {
        log("containment: direct calls into tier-1 modules are not guarded: turned off by the "
            "boot manifest (param containment.direct_guards=off)\n");
    }
}

const UmkaServiceSlot* guarded_slot(const char* consumer, const char* package,
                                    const char* interface, const UmkaServiceSlot* shared) {
    if (!guards_made) return shared;
    const char* refusal = nullptr;
    char provider_name[kGuardNameBytes] = {};
    DirectGuard* made = nullptr;
    {
        // The registry and the module table change only under the capability writer lock
        // (a swap's bind and retire); the log comes after both locks.
        RecursiveSpinLockGuard writer(loader::capability_writer_lock());
        const modules::ServiceEntry* service = loader::module_system().registry().entry_of(shared);
        const loader::ModuleRecord* provider =
            service != nullptr ? loader::module_system().loaded_named(service->provider) : nullptr;
        if (provider == nullptr || provider->tier != 1) return shared;
        const char* name = provider->image.manifest_view.name();
        // A module's calls into itself stay in its own code (a guard would make a fault there
        // one the frame rule refuses, re-entered from the nucleus).
        if (__builtin_strcmp(name, consumer) == 0) return shared;
        for (size_t index = 0; index + 1 < kGuardNameBytes && name[index] != '\0'; ++index)
            provider_name[index] = name[index];
        const char* results = guarded_results(package, interface);
        const UmkaServiceRecord* current = umka_service_slot_load(shared);
        refusal = results == nullptr   ? "kabi-gen listed no results for the interface"
                  : current == nullptr ? "the provider has not published it"
                                       : "every direct-call guard is in use";
        SpinLockGuard locked(guard_table.lock);
        for (size_t index = 0; index < guard_table.count; ++index) {
            DirectGuard& known = guard_table.guards[index];
            if (known.provider_slot == shared && __builtin_strcmp(known.consumer, consumer) == 0)
                return &known.slot;
        }
        if (results != nullptr && current != nullptr && guard_table.count < kMaximumDirectGuards) {
            made = &guard_table.guards[guard_table.count];
            initialize_guard(*made, shared, *current, results, consumer, provider_name, package,
                             interface);
            ++guard_table.count;
        }
    }
    if (made == nullptr) {
        log("containment: %s -> %s %s.%s stays an unguarded direct call: %s\n", consumer,
            provider_name, package, interface, refusal);
        return shared;
    }
    log("containment: %s -> %s %s.%s: direct calls through the nucleus's trampoline (guarded, "
        "in %s's memory domain)\n",
        consumer, provider_name, package, interface, provider_name);
    return &made->slot;
}

bool provider_is_guarded(const char* provider) {
    SpinLockGuard locked(guard_table.lock);
    for (size_t index = 0; index < guard_table.count; ++index) {
        if (__builtin_strcmp(guard_table.guards[index].provider, provider) == 0) return true;
    }
    return false;
}

void mark_guards_failed(const char* provider) {
    SpinLockGuard locked(guard_table.lock);
    for (size_t index = 0; index < guard_table.count; ++index) {
        DirectGuard& guard = guard_table.guards[index];
        if (__builtin_strcmp(guard.provider, provider) == 0)
            guard.state.store(GuardState::ProviderFailed, std::memory_order_release);
    }
}

namespace {

uint64_t dispatch(arch::DirectCallFrame* frame) {
    // Entered straight from the consumer's code, which may run in a memory domain of its
    // own (a ring request, a handler): the nucleus's rights until the call ends, as every
    // slot the nucleus provides gives them (nucleus_entry.h), and the caller's back after.
    NucleusEntry entry;
    auto& guard = *reinterpret_cast<DirectGuard*>(frame->registers[0]);
    if (guard.state.load(std::memory_order_acquire) == GuardState::ProviderFailed)
        return direct_failure(guard.results, frame->method, Errno::NoDevice);
    // The slot is loaded, and the image it leads into noted on this task, with interrupts
    // off: a live swap's pause then falls before the load (the call goes to the new
    // instance) or after the note (the pause sees this task entering the old image and tries
    // again), never between (device_interrupts.cpp has the same rule for handlers).
    sched::Task* task = sched::current_task();
    uint64_t outer_note = task != nullptr ? task->entering_code.load(std::memory_order_relaxed) : 0;
    arch::InterruptState interrupts = arch::save_and_disable_interrupts();
    Result<DirectTarget> target =
        resolve_direct(umka_service_slot_load(guard.provider_slot), frame->method);
    if (target.is_ok()) sched::note_entering(reinterpret_cast<uint64_t>(target.value().function));
    arch::restore_interrupts(interrupts);
    bool interrupts_were_on = interrupts == arch::InterruptState::Enabled;
    if (target.is_error()) return direct_failure(guard.results, frame->method, target.error());
    frame->registers[0] = reinterpret_cast<uint64_t>(target.value().context);
    const loader::ModuleRecord* module =
        loader::module_system().record_containing(target.value().function);
    Invocation call{target.value().function, frame, 0};
    // Recovery runs on this thread, inside this call: it may sleep, so not with interrupts
    // off (a call made inside a ring request); and a module already on this stack (it
    // called a module that calls it back) would resume over the restarted instance's state.
    // Those calls, and a slot that is not module code (a nucleus tombstone), run unguarded,
    // as any direct call: a fault in them stops the machine.
    bool guarded =
        module != nullptr && interrupts_were_on &&
        !sched::on_own_stack(reinterpret_cast<uintptr_t>(module->image.base),
                             reinterpret_cast<uintptr_t>(module->image.base) + module->image.size);
    Status ran = Status::ok();
    if (guarded) {
        ran = guarded_module_call(invoke, &call, *module, CrashPhase::DirectCall);
    } else {
        invoke(&call);
    }
    if (task != nullptr) task->entering_code.store(outer_note, std::memory_order_release);
    return ran.is_ok() ? call.result : direct_failure(guard.results, frame->method, Errno::IoError);
}

}  // namespace
}  // namespace umka::containment

// The trampoline's common entry calls this with the call's argument words; the context word
// is the guard.
extern "C" uint64_t umka_direct_dispatch(umka::arch::DirectCallFrame* frame) {
    return umka::containment::dispatch(frame);
}
