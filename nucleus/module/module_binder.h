// Binding a loaded module (module_entry.h): resolve each `requires` entry to its service
// slot, record the binding and give it a capability, hand the module its state regions,
// call umka_module_entry (with every required slot still empty: entry only exchanges
// vtables), check every vtable it provides, and publish them. Undone
// completely when any step fails. The nucleus and the host harness both bind through here.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"
#include "nucleus/module/capability_table.h"
#include "nucleus/module/diagnostic.h"
#include "nucleus/module/elf_module.h"
#include "nucleus/module/service_registry.h"
#include "umka/module_entry.h"

namespace umka::modules {

// Per-module limits of this nucleus; a manifest beyond them is refused at bind time.
inline constexpr size_t kMaximumRequired = 32;
inline constexpr size_t kMaximumProvided = 32;
inline constexpr size_t kMaximumBoundStates = 16;

// Nucleus-owned memory that lives as long as the module is loaded: the binding the module
// receives (and may use as the context of its interfaces) and what unbinding needs.
struct ModuleBindingBlock {
    UmkaModuleBinding binding;
    UmkaRequiredService required[kMaximumRequired];
    UmkaProvidedInterface provided[kMaximumProvided];
    UmkaStateRegion states[kMaximumBoundStates];
    UmkaServiceSlot* published[kMaximumProvided];
    uint32_t owner;
    uint8_t bound;
};

// Whether bind_module publishes what the module provides. A replacement module in the
// evolution protocol is bound Withheld: its vtables are checked and kept in the block, and
// the caller installs them with swap_provided() once the swap is decided.
enum class Publication : uint8_t {
    Publish,
    Withhold,
};

struct BindRequest {
    const LoadedModule* module;
    // For each `requires` entry (manifest order), the provider to bind to (a module name,
    // or kNucleusProviderName); nullptr for the whole array or an entry means "whichever
    // provider published it first".
    const char* const* providers;
    // One region per manifest `states` entry (manifest order), each at least as large as the
    // manifest says and 16-byte aligned. The nucleus allocates them (and keeps them across a
    // swap); the module never frees them.
    const UmkaStateRegion* states;
    size_t state_count;
    uint32_t owner;  // the module instance: owner of its capabilities and bindings
    Publication publication = Publication::Publish;
};

// EXEC_FORMAT-class problems of the module come back as Errno::ExecFormat (a vtable outside
// the image, a header older than the manifest), missing services as Errno::NotFound, too-old
// services as Errno::InvalidArgument, exhausted tables as Errno::NoSpace, and an error
// returned by umka_module_entry as that errno. The reason names the module and the culprit.
Status bind_module(const BindRequest& request, ModuleBindingBlock& block, ServiceRegistry& registry,
                   CapabilityTable& capabilities, Diagnostic& diagnostic);

// Calls the module's start function (module_entry.h), if it registered one: once, after it
// is bound and committed. An error carries the module's errno and its refusal text.
// The module stays bound either way: its services may already have callers.
Status start_module(ModuleBindingBlock& block, const char* module_name, Diagnostic& diagnostic);

// Live swap of every interface `current` publishes to what `replacement` (bound Withheld,
// same provides[] as `current`) provides: one release store per slot. The swapped-out
// records go to `retired` (kMaximumProvided entries) for the caller to hand back to
// registry.retire() after every CPU has passed a quiescent point; *retired_count says how
// many. The slots now belong to `replacement`. A refusal (an interface `replacement` does
// not provide, a version a consumer cannot use) happens before any store.
Status swap_provided(ModuleBindingBlock& current, ModuleBindingBlock& replacement,
                     const ManifestView& current_manifest, const ManifestView& replacement_manifest,
                     ServiceRegistry& registry, const UmkaServiceRecord** retired,
                     size_t* retired_count, Diagnostic& diagnostic);

// swap_provided in two steps, so that an evolution's pause only stores: plan makes every
// check and takes the new records (writer side, outside the pause); apply, inside it,
// re-checks the consumers' minimum versions (a consumer may have bound since) and stores,
// or refuses before its first store; cancel gives the records of an unapplied plan back.
struct ProvidedSwap {
    size_t count;
    size_t matching[kMaximumProvided];  // the replacement's provides index per current one
    UmkaServiceRecord* records[kMaximumProvided];
    const char* provider;  // the replacement's module name
};
Status plan_swap_provided(const ModuleBindingBlock& current, const ModuleBindingBlock& replacement,
                          const ManifestView& current_manifest,
                          const ManifestView& replacement_manifest, ServiceRegistry& registry,
                          ProvidedSwap& plan, Diagnostic& diagnostic);
Status apply_swap_provided(ModuleBindingBlock& current, ModuleBindingBlock& replacement,
                           ServiceRegistry& registry, ProvidedSwap& plan,
                           const UmkaServiceRecord** retired, size_t* retired_count,
                           Diagnostic& diagnostic);
void cancel_swap_provided(ServiceRegistry& registry, ProvidedSwap& plan);

// Unpublishes what the module provides, forgets its bindings and revokes its capabilities.
// Errno::Busy (reason names the consumer) while another module is bound to one of its
// services; nothing changes then.
Status unbind_module(ModuleBindingBlock& block, const char* module_name, ServiceRegistry& registry,
                     CapabilityTable& capabilities, Diagnostic& diagnostic);

}  // namespace umka::modules
