#include "nucleus/module/dependency_resolver.h"

#include "nucleus/lib/format.h"
#include "nucleus/module/names.h"

namespace umka::modules {
namespace {

enum : uint8_t { kWhite = 0, kGray = 1, kBlack = 2 };
constexpr uint16_t kNoParent = 0xffff;
// Longest cycle spelled out in full; longer ones end in "...".
constexpr size_t kCycleNamesShown = 16;

bool is_settled(ModuleOutcome outcome) {
    return outcome == ModuleOutcome::Loaded || outcome == ModuleOutcome::LoadFailed ||
           outcome == ModuleOutcome::DuplicateName;
}

// For "requires X from 'p', which ...".
const char* unavailable_because(ModuleOutcome outcome) {
    switch (outcome) {
    case ModuleOutcome::LoadFailed:
        return "failed to load";
    case ModuleOutcome::MissingProvider:
        return "lacks a provider";
    case ModuleOutcome::VersionTooOld:
        return "lacks a new enough provider";
    case ModuleOutcome::Cycle:
        return "is on a dependency cycle";
    case ModuleOutcome::Deferred:
        return "is deferred";
    case ModuleOutcome::DuplicateName:
        return "has a duplicate name";
    case ModuleOutcome::Pending:
    case ModuleOutcome::Loaded:
        break;
    }
    return "is unavailable";
}

}  // namespace

const char* module_outcome_name(ModuleOutcome outcome) {
    switch (outcome) {
    case ModuleOutcome::Pending:
        return "pending";
    case ModuleOutcome::Loaded:
        return "loaded";
    case ModuleOutcome::LoadFailed:
        return "load-failed";
    case ModuleOutcome::MissingProvider:
        return "missing-provider";
    case ModuleOutcome::VersionTooOld:
        return "version-too-old";
    case ModuleOutcome::Cycle:
        return "cycle";
    case ModuleOutcome::Deferred:
        return "deferred";
    case ModuleOutcome::DuplicateName:
        return "duplicate-name";
    }
    return "?";
}

DependencyResolver::DependencyResolver(const ResolverStorage& storage, const ManifestView* nucleus)
    : storage_(storage), nucleus_(nucleus) {
    if (storage_.module_capacity > ProviderChoice::kNucleus) {
        storage_.module_capacity = ProviderChoice::kNucleus;
    }
}

Result<size_t> DependencyResolver::add(const ManifestView& manifest, Diagnostic& diagnostic) {
    if (module_count_ == storage_.module_capacity) {
        return refuse(diagnostic, Errno::NoSpace, "resolver holds %zu modules; '%s' does not fit",
                      storage_.module_capacity, manifest.name());
    }
    if (choice_count_ + manifest.required_count() > storage_.choice_capacity) {
        return refuse(diagnostic, Errno::NoSpace,
                      "resolver holds %zu requires entries; the %zu of '%s' do not fit",
                      storage_.choice_capacity, manifest.required_count(), manifest.name());
    }
    size_t index = module_count_++;
    ResolverModule& module = storage_.modules[index];
    module = ResolverModule{};
    module.manifest = manifest;
    module.outcome = ModuleOutcome::Pending;
    module.first_choice = uint32_t(choice_count_);
    choice_count_ += manifest.required_count();
    for (size_t other = 0; other < index; ++other) {
        if (names_equal(storage_.modules[other].manifest.name(), manifest.name())) {
            module.outcome = ModuleOutcome::DuplicateName;
            module.reason.set("module name '%s' is already used by bundle module #%zu",
                              manifest.name(), other);
            break;
        }
    }
    return index;
}

const char* DependencyResolver::provider_name(size_t module, size_t requirement) const {
    ProviderChoice choice = provider_of(module, requirement);
    if (choice.module == ProviderChoice::kNucleus) return "nucleus";
    if (choice.module == ProviderChoice::kNone) return nullptr;
    return storage_.modules[choice.module].manifest.name();
}

// A module may provide for others unless it failed, or lost its name to an earlier one.
bool DependencyResolver::is_candidate(size_t module) const {
    ModuleOutcome outcome = storage_.modules[module].outcome;
    return outcome != ModuleOutcome::LoadFailed && outcome != ModuleOutcome::DuplicateName;
}

void DependencyResolver::choose_providers(size_t index) {
    ResolverModule& module = storage_.modules[index];
    const ManifestView& manifest = module.manifest;
    char wanted[2 * UMKA_KABI_NAME_SIZE + 2];
    for (size_t requirement = 0; requirement < manifest.required_count(); ++requirement) {
        InterfaceEntry needed = manifest.required(requirement);
        ProviderChoice& choice = storage_.choices[module.first_choice + requirement];
        choice = ProviderChoice{};
        qualified_name(needed, wanted, sizeof(wanted));

        // The newest provider seen, satisfying or not, for the refusal message.
        const char* newest_name = nullptr;
        uint32_t newest_version = 0;
        if (nucleus_ != nullptr) {
            size_t entry = nucleus_->find_provided(needed.package, needed.name);
            if (entry != ManifestView::kNotFound) {
                uint32_t version = nucleus_->provided(entry).version;
                if (version >= needed.version) {
                    choice = ProviderChoice{ProviderChoice::kNucleus, uint16_t(entry)};
                    continue;
                }
                newest_name = "nucleus";
                newest_version = version;
            }
        }
        uint32_t best_version = 0;
        for (size_t other = 0; other < module_count_; ++other) {
            if (other == index || !is_candidate(other)) continue;
            const ManifestView& candidate = storage_.modules[other].manifest;
            size_t entry = candidate.find_provided(needed.package, needed.name);
            if (entry == ManifestView::kNotFound) continue;
            uint32_t version = candidate.provided(entry).version;
            if (version > newest_version || newest_name == nullptr) {
                newest_name = candidate.name();
                newest_version = version;
            }
            if (version >= needed.version && version > best_version) {
                best_version = version;
                choice = ProviderChoice{uint16_t(other), uint16_t(entry)};
            }
        }
        if (choice.module != ProviderChoice::kNone) continue;
        if (newest_name != nullptr) {
            module.outcome = ModuleOutcome::VersionTooOld;
            module.reason.set("module '%s' requires %s >= %u but '%s' provides version %u",
                              manifest.name(), wanted, needed.version, newest_name, newest_version);
        } else {
            module.outcome = ModuleOutcome::MissingProvider;
            module.reason.set("module '%s' requires %s >= %u but no module provides it",
                              manifest.name(), wanted, needed.version);
        }
        return;
    }
}

// `requirer` (gray, top of the search) needs `provider`, which is gray: an ancestor. The
// parent links from requirer back to provider are the cycle, read backwards.
void DependencyResolver::refuse_cycle(size_t provider, size_t requirer) {
    uint16_t path[kCycleNamesShown];
    size_t length = 0;
    size_t total = 0;
    for (size_t at = requirer;; at = storage_.modules[at].parent) {
        if (length < kCycleNamesShown) path[length++] = uint16_t(at);
        ++total;
        if (at == provider) break;
    }
    // path = requirer, ..., provider (or its first kCycleNamesShown links); each requires
    // the one before it, and requirer requires provider. Spelled
    // provider -> ... -> requirer -> provider.
    const char* provider_name = storage_.modules[provider].manifest.name();
    char text[Diagnostic::kCapacity];
    size_t used = format(text, sizeof(text), "cycle: ");
    if (total > length)
        used += format(text + used, sizeof(text) - used, "%s -> ... -> ", provider_name);
    for (size_t position = length; position-- > 0;) {
        used += format(text + used, sizeof(text) - used, "%s -> ",
                       storage_.modules[path[position]].manifest.name());
    }
    format(text + used, sizeof(text) - used, "%s", provider_name);
    for (size_t at = requirer;; at = storage_.modules[at].parent) {
        ResolverModule& member = storage_.modules[at];
        member.outcome = ModuleOutcome::Cycle;
        member.reason.set("%s", text);
        if (at == provider) break;
    }
}

void DependencyResolver::search_from(size_t start) {
    ResolverModule& first = storage_.modules[start];
    first.mark = kGray;
    first.cursor = 0;
    first.parent = kNoParent;
    size_t current = start;
    while (current != kNoParent) {
        ResolverModule& module = storage_.modules[current];
        if (module.cursor < module.manifest.required_count()) {
            ProviderChoice choice = storage_.choices[module.first_choice + module.cursor++];
            if (choice.module >= ProviderChoice::kNucleus) continue;
            ResolverModule& provider = storage_.modules[choice.module];
            if (provider.mark == kGray) {
                refuse_cycle(choice.module, current);
            } else if (provider.mark == kWhite && provider.outcome == ModuleOutcome::Pending) {
                provider.mark = kGray;
                provider.cursor = 0;
                provider.parent = uint16_t(current);
                current = choice.module;
            }
            continue;
        }
        // All providers done: this module goes after them.
        module.mark = kBlack;
        if (module.outcome == ModuleOutcome::Pending) {
            storage_.order[order_size_++] = uint16_t(current);
        }
        current = module.parent;
    }
}

// Marks `module` Deferred if one of its providers is neither loaded nor going to load.
void DependencyResolver::defer_if_provider_unavailable(size_t index) {
    ResolverModule& module = storage_.modules[index];
    char wanted[2 * UMKA_KABI_NAME_SIZE + 2];
    for (size_t requirement = 0; requirement < module.manifest.required_count(); ++requirement) {
        ProviderChoice choice = provider_of(index, requirement);
        if (choice.module >= ProviderChoice::kNucleus) continue;
        const ResolverModule& provider = storage_.modules[choice.module];
        if (provider.outcome == ModuleOutcome::Pending ||
            provider.outcome == ModuleOutcome::Loaded) {
            continue;
        }
        qualified_name(module.manifest.required(requirement), wanted, sizeof(wanted));
        module.outcome = ModuleOutcome::Deferred;
        module.reason.set("deferred: requires %s from '%s', which %s", wanted,
                          provider.manifest.name(), unavailable_because(provider.outcome));
        return;
    }
}

void DependencyResolver::resolve() {
    for (size_t index = 0; index < module_count_; ++index) {
        ResolverModule& module = storage_.modules[index];
        module.mark = kWhite;
        if (is_settled(module.outcome)) continue;
        module.outcome = ModuleOutcome::Pending;
        module.reason.clear();
    }
    for (size_t index = 0; index < module_count_; ++index) {
        if (storage_.modules[index].outcome == ModuleOutcome::Pending) choose_providers(index);
    }
    order_size_ = 0;
    next_position_ = 0;
    for (size_t index = 0; index < module_count_; ++index) {
        const ResolverModule& module = storage_.modules[index];
        if (module.mark == kWhite && module.outcome == ModuleOutcome::Pending) search_from(index);
    }
    // Topological order, so a provider's fate is known before its consumers are looked at.
    size_t kept = 0;
    for (size_t position = 0; position < order_size_; ++position) {
        size_t index = storage_.order[position];
        if (storage_.modules[index].outcome == ModuleOutcome::Pending) {
            defer_if_provider_unavailable(index);
        }
        if (storage_.modules[index].outcome == ModuleOutcome::Pending) {
            storage_.order[kept++] = uint16_t(index);
        }
    }
    order_size_ = kept;
}

size_t DependencyResolver::next_to_load() {
    while (next_position_ < order_size_) {
        size_t index = storage_.order[next_position_];
        if (storage_.modules[index].outcome != ModuleOutcome::Pending) {
            ++next_position_;
            continue;
        }
        defer_if_provider_unavailable(index);
        if (storage_.modules[index].outcome == ModuleOutcome::Pending) return index;
        ++next_position_;
    }
    return kNone;
}

void DependencyResolver::mark_loaded(size_t module) {
    storage_.modules[module].outcome = ModuleOutcome::Loaded;
    storage_.modules[module].reason.clear();
}

void DependencyResolver::mark_failed(size_t module, const char* reason) {
    storage_.modules[module].outcome = ModuleOutcome::LoadFailed;
    storage_.modules[module].reason.set("%s", reason != nullptr ? reason : "load failed");
}

}  // namespace umka::modules
