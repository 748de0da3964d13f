// Load order for a bundle: a provider index built from every manifest, a topological order
// in which each module comes after the providers of its `requires`, refusal of missing or
// too-old providers and of cycles (naming the modules), and deferral: a module whose
// provider failed to load is set aside with the reason while independent modules load, and
// comes back when resolve() runs again after a provider appears.
//
// Provider choice for each `requires` entry: the nucleus if it provides the interface at
// the version needed, else the module with the highest version of it (ties: the one that
// came first in the bundle). Interfaces the nucleus provides are always available.
//
// Use:
//   DependencyResolver resolver(storage, &nucleus_manifest);
//   for each module: resolver.add(manifest)
//   resolver.resolve();
//   for (size_t m; (m = resolver.next_to_load()) != DependencyResolver::kNone;)
//       load(m) ? resolver.mark_loaded(m) : resolver.mark_failed(m, reason);
// All storage comes from the caller; nothing allocates.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"
#include "nucleus/module/diagnostic.h"
#include "nucleus/module/manifest.h"

namespace umka::modules {

enum class ModuleOutcome : uint8_t {
    Pending,          // in the load order, waiting for next_to_load()
    Loaded,           // mark_loaded()
    LoadFailed,       // mark_failed(): signature, ELF, binding or entry refused it
    MissingProvider,  // nothing provides a required interface
    VersionTooOld,    // providers exist, all older than required
    Cycle,            // on a dependency cycle
    Deferred,         // a provider failed or was refused; reconsidered by the next resolve()
    DuplicateName,    // another module of the bundle has the same name
};
const char* module_outcome_name(ModuleOutcome outcome);

// Which provider a `requires` entry resolved to.
struct ProviderChoice {
    static constexpr uint16_t kNucleus = 0xfffe;
    static constexpr uint16_t kNone = 0xffff;
    uint16_t module = kNone;  // module index, kNucleus or kNone
    uint16_t entry = 0;       // index in that provider's provides[]
};

// Per-module record, in caller storage.
struct ResolverModule {
    ManifestView manifest;
    ModuleOutcome outcome;
    uint32_t first_choice;  // this module's requires start here in the choice array
    Diagnostic reason;      // why it is not Pending/Loaded
    // Depth-first search scratch (no recursion: parent links are the stack).
    uint16_t parent;
    uint16_t cursor;
    uint8_t mark;
};

struct ResolverStorage {
    ResolverModule* modules;
    size_t module_capacity;   // at most 0xfffd
    ProviderChoice* choices;  // one per `requires` entry of all modules together
    size_t choice_capacity;
    uint16_t* order;  // module_capacity entries
};

class DependencyResolver {
public:
    static constexpr size_t kNone = ~size_t(0);

    // `nucleus` lists what the nucleus provides (its own manifest); nullptr for nothing.
    DependencyResolver(const ResolverStorage& storage, const ManifestView* nucleus);

    // Adds a module (a parsed manifest that outlives the resolver's use). ENOSPC when the
    // storage is full. A name already in use is recorded with outcome DuplicateName.
    Result<size_t> add(const ManifestView& manifest, Diagnostic& diagnostic);

    // Chooses providers, finds cycles, orders. Re-runnable: modules already Loaded or
    // LoadFailed keep their outcome; every other module is decided afresh (so a deferred
    // module whose provider has appeared becomes Pending again).
    void resolve();

    // The next Pending module whose providers have all loaded; modules whose provider
    // failed on the way are marked Deferred. kNone when nothing is left. Returns the same
    // module until it is marked.
    size_t next_to_load();
    void mark_loaded(size_t module);
    void mark_failed(size_t module, const char* reason);

    size_t module_count() const { return module_count_; }
    size_t order_size() const { return order_size_; }
    size_t order_at(size_t position) const { return storage_.order[position]; }
    ModuleOutcome outcome(size_t module) const { return storage_.modules[module].outcome; }
    const char* reason(size_t module) const { return storage_.modules[module].reason.text(); }
    const ManifestView& manifest(size_t module) const { return storage_.modules[module].manifest; }
    ProviderChoice provider_of(size_t module, size_t requirement) const {
        return storage_.choices[storage_.modules[module].first_choice + requirement];
    }
    // "nucleus", the provider module's name, or nullptr when unresolved.
    const char* provider_name(size_t module, size_t requirement) const;

private:
    void choose_providers(size_t module);
    void search_from(size_t start);
    void refuse_cycle(size_t provider, size_t requirer);
    void defer_if_provider_unavailable(size_t module);
    bool is_candidate(size_t module) const;

    ResolverStorage storage_;
    const ManifestView* nucleus_;
    size_t module_count_ = 0;
    size_t choice_count_ = 0;
    size_t order_size_ = 0;
    size_t next_position_ = 0;
};

}  // namespace umka::modules
