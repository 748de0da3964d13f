// The nucleus's ring adapter table (umka/kabi/ring_adapter_table.hpp): one entry for every
// interface a ring binding can carry, so a new interface travels over a ring with no
// nucleus edit. The selection mirrors the nucleus's per-binding choice (docs/rings.md,
// "Kernel bindings") for what the IDL alone decides, and keeps interfaces that can never
// be ringed out of the nucleus image:
//   - the vtable's transport allows ring (transport(direct) and ipc-only stay out);
//   - its tier range includes 1, the tier of a ring consumer;
//   - some module of the run that allows ring provides it. The nucleus's own services are
//     called in place (its module is transport(direct)), so they never need an adapter;
//   - some module of the run that allows ring and tier 1 requires it: only such a consumer
//     can be placed at tier 1 on a ring, so an interface nobody could call over a ring
//     costs the nucleus image nothing (about 1 KiB of adapter code each).
// Interfaces left out are listed in a comment with the first rule they fail.
//
// The same header carries kGuardedResults, for the nucleus's guarded direct call into a
// tier-1 provider (nucleus/containment/direct_guard.h): for every interface some module that
// allows tier 1 provides, what each vtable slot returns, so a call the nucleus unwinds from a
// crash answers a status method EIO and any other zero, as a ring binding torn down does.
// The trampoline forwards at most 12 argument words (six in registers, six on the stack): a
// method with more makes the header fail to compile, naming it.
#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "emitters.h"
#include "naming.h"

namespace kabi {
namespace {

constexpr uint8_t kRingTier = 1;

using InterfaceKey = std::pair<std::string, std::string>;  // package, vtable name

struct Candidate {
    const File* owner;
    const VtableDecl* vtable;
};

bool allows_ring_tier(const TierSpec& tier) {
    return tier.minimum <= kRingTier && kRingTier <= tier.maximum;
}

// Why `vtable` gets no entry, or nullptr if it gets one.
const char* exclusion(const VtableDecl& vtable, bool provided_by_ring_module,
                      bool required_by_ring_module) {
    if ((vtable.transport.mask & TransportRing) == 0) return "its transport does not allow ring";
    if (!allows_ring_tier(vtable.tier)) return "its tier range excludes tier 1";
    if (!provided_by_ring_module) return "no module that allows ring provides it";
    if (!required_by_ring_module) return "no module that allows ring at tier 1 requires it";
    return nullptr;
}

constexpr size_t kGuardedArgumentWords = 12;

// The kGuardedResults table: 's' a status slot (tombstones answer ENOSYS, a status), 'v'
// a value or nothing.
std::string guarded_results(const std::vector<const File*>& files) {
    std::map<InterfaceKey, std::string> kinds;
    std::string too_wide;
    std::map<InterfaceKey, const VtableDecl*> vtables;
    for (const File* file : files) {
        for (const VtableDecl& vtable : file->vtables)
            vtables[{file->package, vtable.name}] = &vtable;
    }
    for (const File* file : files) {
        for (const ModuleDecl& module : file->modules) {
            if (!allows_ring_tier(module.tier)) continue;
            for (const InterfaceRef& reference : module.provides) {
                if (!reference.owner || !reference.resolved) continue;
                InterfaceKey key{reference.owner->package, reference.resolved->name};
                const VtableDecl& vtable = *reference.resolved;
                std::string letters;
                for (const Method& method : vtable.methods) {
                    letters += method.tombstone || returns_status(method) ? 's' : 'v';
                    if (method.tombstone) continue;
                    std::string parameters = slot_parameters(method, Language::Cpp);
                    size_t words =
                        1 + size_t(std::count(parameters.begin(), parameters.end(), ','));
                    if (words > kGuardedArgumentWords) {
                        too_wide += "#error \"" + key.first + "." + key.second + "." + method.name +
                                    " takes " + std::to_string(words) +
                                    " argument words; a guarded direct call forwards at most " +
                                    std::to_string(kGuardedArgumentWords) + "\"\n";
                    }
                }
                kinds[key] = letters;
            }
        }
    }
    std::string out =
        "// What each slot of an interface a tier-1 module may provide returns ('s' a status, "
        "'v'\n// a value or nothing): a guarded direct call unwound from a crash answers EIO "
        "or zero.\n";
    out += too_wide;
    out +=
        "struct GuardedResults {\n    const char* package;\n    const char* interface;\n"
        "    const char* slots;\n};\n";
    out += "inline constexpr size_t kGuardedResultsCount = " + std::to_string(kinds.size()) + ";\n";
    out += "inline constexpr GuardedResults kGuardedResults[" +
           std::to_string(std::max<size_t>(kinds.size(), 1)) + "] = {\n";
    for (const auto& [key, letters] : kinds) {
        out += "    {\"" + key.first + "\", \"" + key.second + "\", \"" + letters + "\"},\n";
    }
    out += "};\n\n";
    return out;
}

}  // namespace

std::string emit_ring_adapter_table(const std::vector<const File*>& files) {
    // Keyed by (package, name): the output does not depend on command-line or import order.
    std::map<InterfaceKey, Candidate> vtables;
    std::set<InterfaceKey> ring_provided;
    std::set<InterfaceKey> ring_required;
    auto collect = [](const std::vector<InterfaceRef>& references, std::set<InterfaceKey>& into) {
        for (const InterfaceRef& reference : references) {
            if (reference.owner && reference.resolved)
                into.insert({reference.owner->package, reference.resolved->name});
        }
    };
    for (const File* file : files) {
        for (const VtableDecl& vtable : file->vtables)
            vtables.emplace(InterfaceKey{file->package, vtable.name}, Candidate{file, &vtable});
        for (const ModuleDecl& module : file->modules) {
            if ((module.transport.mask & TransportRing) == 0) continue;
            collect(module.provides, ring_provided);
            if (allows_ring_tier(module.tier)) collect(module.requires_, ring_required);
        }
    }
    std::vector<Candidate> entries;
    std::string excluded;
    std::set<std::string> packages;
    for (const auto& [key, candidate] : vtables) {
        const char* reason = exclusion(*candidate.vtable, ring_provided.count(key) != 0,
                                       ring_required.count(key) != 0);
        if (reason) {
            excluded += "//   " + key.first + "." + key.second + ": " + reason + "\n";
            continue;
        }
        entries.push_back(candidate);
        packages.insert(key.first);
    }

    std::string out = "// Generated by kabi-gen --emit ring-table from " +
                      std::to_string(files.size()) + " package(s). Do not edit.\n";
    out +=
        "// The interfaces the nucleus can carry over a ring: transport allows ring, tier range\n"
        "// includes 1, provided by a module that allows ring, required by a module that allows\n"
        "// ring at tier 1 (docs/rings.md, \"Kernel bindings\").\n";
    if (!excluded.empty()) out += "// Left out:\n" + excluded;
    out += "#pragma once\n\n#include <stddef.h>\n#include <stdint.h>\n\n";
    for (const std::string& package : packages)
        out += "#include \"umka/kabi/" + package + "_ring.hpp\"\n";
    if (!packages.empty()) out += "\n";
    out += "namespace umka::kabi {\n\n";
    out +=
        "// Builder is the nucleus's table type. It supplies\n"
        "//   Adapter  the entry type;\n"
        "//   Caller   the Ring type the adapter vtables call through;\n"
        "//   template <typename Vtable, auto Dispatch> static constexpr Adapter entry(\n"
        "//       const char* package, const char* interface, const void* adapter_vtable,\n"
        "//       uint32_t interface_version);\n"
        "// where Dispatch is the interface's generated <interface>_ring::dispatch.\n";
    out +=
        "inline constexpr size_t kRingAdapterCount = " + std::to_string(entries.size()) + ";\n\n";
    if (entries.empty()) {
        out += "// No interface qualifies: one value-initialised element, never looked at.\n";
    }
    out +=
        "template <typename Builder>\ninline constexpr typename Builder::Adapter kRingAdapters[" +
        std::to_string(std::max<size_t>(entries.size(), 1)) + "] = {\n";
    for (const Candidate& entry : entries) {
        const std::string space = cpp_namespace(entry.owner->package) + "::";
        const std::string& name = entry.vtable->name;
        out += "    Builder::template entry<" + space + name + "Vtable, &" + space +
               to_snake_case(name) + "_ring::dispatch>(\n";
        out += "        \"" + entry.owner->package + "\", \"" + name + "\", &" + space + name +
               "RingVtable<typename Builder::Caller>::vtable,\n";
        out += "        " + space + name + "Ref::interface_version),\n";
    }
    out += "};\n\n";
    out += guarded_results(files);
    out += "}  // namespace umka::kabi\n";
    return out;
}

}  // namespace kabi
