// Hooks inside the evolution pause, registered by the services that need them, so the
// evolution code stays generic (it names no package). A service whose state the nucleus
// keeps beside the module's own state regions (the scheduler: the policy's run-queue and
// task arrays, which the nucleus owns) registers a hook for the interface the module
// provides; when a replacement provides that interface, the swap calls the hook at each
// phase (docs/evolution.md, "Pause hooks"):
//
//   prepare  outside the pause, after the replacement is bound withheld: allocate
//   dry_run  validate: build the replacement's state from a snapshot (state_snapshot.h),
//            with every check the import makes; may refuse
//   refresh  right before the pause (the initiating CPU has interrupts off until it): bring
//            the pre-built state up to date if the live one changed since; may refuse
//   commit   inside the pause, before the service slots are stored: keep the pre-built
//            state if the live one still equals the snapshot (or nothing ran since
//            refresh), import it again otherwise; may refuse
//   switch   inside the pause, after the stores (cannot fail)
//   finish   after the pause: free what the old instance used
//   abandon  the swap was refused at any phase up to commit: free what prepare allocated
//
// Registration happens once per service during bring-up, before any evolution; the table
// is only read afterwards.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/evolution/state_snapshot.h"
#include "nucleus/lib/status.h"
#include "nucleus/module/diagnostic.h"
#include "nucleus/module/manifest.h"
#include "umka/module_entry.h"

namespace umka::evolution {

// Whether the hook's commit compares every item it migrated (the scheduler: every task's
// and run queue's view, old policy against new) before the stores.
enum class StateCheck : uint8_t { Skip, CompareEveryTask };

// What a hook migrated and checked, for the evolution report (EvolveDetail).
struct PauseHookFacts {
    uint32_t items_compared;    // the scheduler: tasks whose view matched before and after
    uint32_t groups_compared;   // the scheduler: run queues
    uint32_t old_item_version;  // the migrated record's schema version, old and new
    uint32_t new_item_version;
    uint64_t check_cycles;
    PauseWork work;  // whether commit had to import the live state again
};

struct PauseHook {
    const char* package;  // the interface the hook belongs to: package.interface
    const char* interface;
    Status (*prepare)(const UmkaProvidedInterface& replacement, modules::Diagnostic& diagnostic);
    Status (*dry_run)(modules::Diagnostic& diagnostic);
    // `regions`: Rebuilt when the replacement's own state regions were imported again
    // since dry_run (anything it put there, like an attach, is gone).
    Status (*refresh)(PauseWork regions, modules::Diagnostic& diagnostic);
    // `regions`: as for refresh, for the import inside this pause. `since`: Unchanged when
    // nothing can have written the live state after refresh (no comparison needed).
    Status (*commit)(StateCheck check, PauseWork regions, SinceRefresh since,
                     modules::Diagnostic& diagnostic);
    void (*switch_over)();
    void (*finish)();
    void (*abandon)();
    PauseHookFacts (*facts)();  // after commit: what was migrated
};

inline constexpr size_t kMaximumPauseHooks = 4;

// `hook` is kept by address: a static object. Errno::Exists when the interface already has a hook,
// Errno::NoSpace when the table is full, Errno::InvalidArgument for a hook missing a name or a
// function.
Status register_pause_hook(const PauseHook& hook);

// The hook for provides[index] of `manifest`, or nullptr.
const PauseHook* pause_hook_for(const modules::ManifestView& manifest, size_t index);

// Forgets every hook (host tests).
void clear_pause_hooks();

}  // namespace umka::evolution
