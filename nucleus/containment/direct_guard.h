// The guarded direct call (docs/crash-containment.md, "Direct calls"): a consumer bound
// directly to a tier-1 module calls through a private slot whose record is {a guarded
// vtable, this guard}. Every slot of the guarded vtable is an entry of the arch trampoline
// (arch/direct_call.h), which hands the call's argument words to umka_direct_dispatch
// (direct_guards.cpp). The dispatch loads the provider's SHARED slot for every call (so a
// swap or a restart of the provider takes effect at once), runs the method guarded in the
// provider's memory domain on the caller's thread, and answers a call the nucleus unwound
// from a crash with EIO (a status method) or zero (any other), as a ring binding torn down
// answers. A failed provider's calls get ENODEV before any of its code runs.
//
// This file is the pure part, host-tested with the trampoline itself
// (test/host/containment/direct_call_test.cpp).
#pragma once

#include <arch/direct_call.h>
#include <stdint.h>

#include <atomic>

#include "nucleus/lib/status.h"
#include "umka/kabi/kabi_base.h"
#include "umka/module_entry.h"

namespace umka::containment {

// A manifest's names fit (UMKA_KABI_NAME_SIZE, the NUL included): a guard's are never cut.
inline constexpr size_t kGuardNameBytes = UMKA_KABI_NAME_SIZE;

struct GuardedVtable {
    umka_kabi_vtable_header header{};  // the provider's, as bound
    const void* slots[arch::kDirectEntries]{};
};

enum class GuardState : uint8_t { Serving, ProviderFailed };

struct DirectGuard {
    GuardedVtable vtable{};
    // What the consumer's required entry points at: {&vtable.header, this}.
    UmkaServiceRecord record{};
    UmkaServiceSlot slot{};
    const UmkaServiceSlot* provider_slot = nullptr;  // the provider's shared slot
    // One letter per vtable slot, 's' a status and 'v' a value or nothing
    // (umka::kabi::kGuardedResults); a slot past it answers as a value.
    const char* results = nullptr;
    std::atomic<GuardState> state{GuardState::Serving};
    char consumer[kGuardNameBytes]{};
    char provider[kGuardNameBytes]{};
    char interface[2 * kGuardNameBytes]{};  // package.Interface, for the log
};

// Makes `guard` lead to `provider_slot`: the guarded vtable (the provider's header, each slot
// an entry of the trampoline) and the record the consumer gets. Names are cut to fit.
void initialize_guard(DirectGuard& guard, const UmkaServiceSlot* provider_slot,
                      const UmkaServiceRecord& provider, const char* results, const char* consumer,
                      const char* provider_name, const char* package, const char* interface);

// The provider's method behind slot `method` of `record`: NotFound without a record,
// NoFunction for a slot past its vtable or an empty one.
struct DirectTarget {
    const void* function;
    void* context;
};
Result<DirectTarget> resolve_direct(const UmkaServiceRecord* record, uint64_t method);

// What a call of slot `method` that did not run to its end answers: `error` for a status
// slot, zero otherwise.
uint64_t direct_failure(const char* results, uint64_t method, Errno error);

}  // namespace umka::containment
