#include "compat.h"

#include <map>
#include <set>

#include "naming.h"

namespace kabi {

const char* compatibility_name(Compatibility compatibility) {
    switch (compatibility) {
    case Compatibility::Compatible:
        return "compatible";
    case Compatibility::NeedsReview:
        return "needs-review";
    case Compatibility::Incompatible:
        return "incompatible";
    }
    return "?";
}

std::string render_finding(const CompatFinding& finding) {
    auto where = [](const SourceLocation& location) {
        if (location.line == 0) return std::string("(none)");
        return location.file + ":" + std::to_string(location.line) + ":" +
               std::to_string(location.column);
    };
    return std::string(compatibility_name(finding.compatibility)) + "[" + finding.rule +
           "]: " + finding.message + "\n    old: " + where(finding.old_location) +
           "\n    new: " + where(finding.new_location) + "\n";
}

namespace {

// Identity of a declaration across two trees. A name declared in the compared file itself
// is keyed without its package: the two trees are the same package by definition (a
// rename is its own finding), so `p.Pair` and `q.Pair` after renaming p to q are one type.
// Names from imported packages keep their package.
std::string declaration_key(const File* owner, const File& compared, const std::string& name) {
    return (owner == nullptr || owner == &compared ? std::string() : owner->package + ".") + name;
}

// Identity of a type: its declaration plus array length and size.
std::string type_key(const TypeRef& type, const File& compared) {
    return declaration_key(type.owner, compared, type.name) +
           (type.array_length ? "[" + std::to_string(type.array_length) + "]" : "") + "/" +
           std::to_string(type.size);
}

const char* direction_name(ParamDirection direction) {
    return direction == ParamDirection::In    ? "in"
           : direction == ParamDirection::Out ? "out"
                                              : "inout";
}

std::string signature(const Method& method) {
    std::string text = "(";
    for (const Param& param : method.params) {
        text += std::string(text.size() > 1 ? ", " : "") + direction_name(param.direction) + " " +
                param.type.spelling();
    }
    return text + ")" + (method.result ? " -> " + method.result->spelling() : "");
}

std::string transport_text(uint8_t mask) {
    std::string text;
    if (mask & TransportDirect) text += "direct,";
    if (mask & TransportRing) text += "ring,";
    if (mask & TransportIpc) text += "ipc,";
    if (!text.empty()) text.pop_back();
    return "(" + text + ")";
}

class Comparer {
public:
    Comparer(const File& old_file, const File& new_file) : old_(old_file), new_(new_file) {}

    std::vector<CompatFinding> run() {
        compare_package();
        compare_enums();
        compare_structs();
        compare_handles();
        compare_vtables();
        compare_states();
        compare_modules();
        return std::move(findings_);
    }

private:
    std::string old_key(const TypeRef& type) const { return type_key(type, old_); }
    std::string new_key(const TypeRef& type) const { return type_key(type, new_); }

    void add(Compatibility compatibility, std::string rule, std::string message,
             SourceLocation old_location, SourceLocation new_location) {
        findings_.push_back(CompatFinding{compatibility, std::move(rule), std::move(message),
                                          std::move(old_location), std::move(new_location)});
    }

    template <typename Decl>
    static std::map<std::string, const Decl*> by_name(const std::vector<Decl>& decls) {
        std::map<std::string, const Decl*> map;
        for (const Decl& decl : decls) map[decl.name] = &decl;
        return map;
    }

    // Reports removed/added declarations; calls `same` for each pair present in both.
    template <typename Decl, typename Same>
    void pair_up(const std::vector<Decl>& olds, const std::vector<Decl>& news, const char* kind,
                 Same same) {
        auto new_map = by_name(news);
        auto old_map = by_name(olds);
        for (const Decl& old_decl : olds) {
            auto found = new_map.find(old_decl.name);
            if (found == new_map.end()) {
                add(Compatibility::Incompatible, std::string(kind) + "-removed",
                    std::string(kind) + " '" + old_decl.name + "' was removed", old_decl.location,
                    {});
            } else {
                same(old_decl, *found->second);
            }
        }
        for (const Decl& new_decl : news) {
            if (!old_map.count(new_decl.name)) {
                add(Compatibility::Compatible, std::string(kind) + "-added",
                    std::string(kind) + " '" + new_decl.name + "' is new", {}, new_decl.location);
            }
        }
    }

    void compare_package() {
        if (old_.package != new_.package) {
            add(Compatibility::Incompatible, "package-renamed",
                "package '" + old_.package + "' became '" + new_.package + "'",
                old_.package_location, new_.package_location);
        }
        if (new_.version < old_.version) {
            add(Compatibility::Incompatible, "package-version-decreased",
                "package version went from " + std::to_string(old_.version) + " to " +
                    std::to_string(new_.version),
                old_.version_location, new_.version_location);
        }
    }

    void compare_enums() {
        pair_up(old_.enums, new_.enums, "enum", [&](const EnumDecl& before, const EnumDecl& after) {
            if (before.is_flags != after.is_flags) {
                add(Compatibility::Incompatible, "enum-kind-changed",
                    "'" + before.name + "' changed between enum and flags", before.location,
                    after.location);
                return;
            }
            if (old_key(before.underlying) != new_key(after.underlying)) {
                add(Compatibility::Incompatible, "enum-underlying-changed",
                    "'" + before.name + "' changed its underlying type from " +
                        before.underlying.name + " to " + after.underlying.name,
                    before.underlying.location, after.underlying.location);
            }
            std::map<std::string, const EnumMember*> after_names;
            std::map<uint64_t, const EnumMember*> after_values;
            for (const EnumMember& member : after.members) {
                after_names[member.name] = &member;
                after_values[member.value] = &member;
            }
            std::set<std::string> before_names;
            for (const EnumMember& member : before.members) {
                before_names.insert(member.name);
                auto found = after_names.find(member.name);
                if (found != after_names.end()) {
                    if (found->second->value != member.value) {
                        add(Compatibility::Incompatible, "enum-value-changed",
                            "'" + before.name + "::" + member.name + "' changed value from " +
                                std::to_string(member.value) + " to " +
                                std::to_string(found->second->value),
                            member.value_location, found->second->value_location);
                    }
                    continue;
                }
                auto same_value = after_values.find(member.value);
                if (same_value != after_values.end()) {
                    add(Compatibility::NeedsReview, "enum-member-renamed",
                        "'" + before.name + "::" + member.name + "' was renamed to '" +
                            same_value->second->name +
                            "' (same value: binary compatible, breaks source)",
                        member.location, same_value->second->location);
                } else {
                    add(Compatibility::Incompatible, "enum-member-removed",
                        "'" + before.name + "::" + member.name + "' was removed", member.location,
                        {});
                }
            }
            std::set<uint64_t> before_values;
            for (const EnumMember& member : before.members) before_values.insert(member.value);
            for (const EnumMember& member : after.members) {
                if (before_names.count(member.name) || before_values.count(member.value)) continue;
                bool strict = new_.policy.policy == Policy::Strict;
                add(strict ? Compatibility::NeedsReview : Compatibility::Compatible,
                    "enum-member-added",
                    "'" + after.name + "::" + member.name + "' is new" +
                        (strict
                             ? " (strict policy: old consumers may refuse values they do not know)"
                             : ""),
                    {}, member.location);
            }
        });
    }

    void compare_structs() {
        pair_up(old_.structs, new_.structs, "struct",
                [&](const StructDecl& before, const StructDecl& after) {
                    if (before.declared_size != after.declared_size ||
                        before.declared_alignment != after.declared_alignment) {
                        add(Compatibility::Incompatible, "struct-layout-changed",
                            "'" + before.name + "' changed from size " +
                                std::to_string(before.declared_size) + " align " +
                                std::to_string(before.declared_alignment) + " to size " +
                                std::to_string(after.declared_size) + " align " +
                                std::to_string(after.declared_alignment),
                            before.size_location, after.size_location);
                    }
                    compare_fields(before.name, before.fields, after.fields,
                                   before.declared_size == after.declared_size);
                });
    }

    void compare_fields(const std::string& owner, const std::vector<Field>& before,
                        const std::vector<Field>& after, bool same_size) {
        std::map<std::string, const Field*> after_names;
        std::map<uint64_t, const Field*> after_offsets;
        for (const Field& field : after) {
            after_names[field.name] = &field;
            after_offsets[field.offset] = &field;
        }
        std::set<std::string> before_names;
        std::set<uint64_t> before_offsets;
        for (const Field& field : before) {
            before_names.insert(field.name);
            before_offsets.insert(field.offset);
            auto found = after_names.find(field.name);
            if (found != after_names.end()) {
                const Field& moved = *found->second;
                if (new_key(moved.type) != old_key(field.type)) {
                    add(Compatibility::Incompatible, "field-retyped",
                        "'" + owner + "." + field.name + "' changed type from " +
                            field.type.spelling() + " to " + moved.type.spelling(),
                        field.type.location, moved.type.location);
                } else if (moved.offset != field.offset) {
                    add(Compatibility::Incompatible, "field-moved",
                        "'" + owner + "." + field.name + "' moved from offset " +
                            std::to_string(field.offset) + " to " + std::to_string(moved.offset) +
                            " (fields were reordered or inserted)",
                        field.location, moved.location);
                }
                continue;
            }
            auto same_place = after_offsets.find(field.offset);
            if (same_place != after_offsets.end() &&
                !before_names.count(same_place->second->name) &&
                new_key(same_place->second->type) == old_key(field.type) &&
                !after_names.count(field.name)) {
                add(Compatibility::NeedsReview, "field-renamed",
                    "'" + owner + "." + field.name + "' was renamed to '" +
                        same_place->second->name +
                        "' (same offset and type: binary compatible, breaks source)",
                    field.location, same_place->second->location);
            } else if (field.name.rfind("reserved", 0) == 0 && same_size) {
                add(Compatibility::NeedsReview, "reserved-field-used",
                    "reserved space '" + owner + "." + field.name +
                        "' now holds new fields: old writers leave it zero, check zero means "
                        "'absent'",
                    field.location, {});
            } else {
                add(Compatibility::Incompatible, "field-removed",
                    "'" + owner + "." + field.name + "' was removed", field.location, {});
            }
        }
        for (const Field& field : after) {
            if (before_names.count(field.name)) continue;
            if (before_offsets.count(field.offset)) {
                bool renamed = false;
                for (const Field& old_field : before) {
                    if (old_field.offset == field.offset &&
                        old_key(old_field.type) == new_key(field.type) &&
                        !after_names.count(old_field.name)) {
                        renamed = true;
                    }
                }
                if (renamed) continue;  // reported as field-renamed
            }
            if (same_size) {
                add(Compatibility::Compatible, "field-added",
                    "'" + owner + "." + field.name + "' is new (in previously reserved space)", {},
                    field.location);
            }
        }
    }

    void compare_handles() {
        pair_up(old_.handles, new_.handles, "handle", [](const HandleDecl&, const HandleDecl&) {});
    }

    void compare_vtables() {
        pair_up(old_.vtables, new_.vtables, "vtable",
                [&](const VtableDecl& before, const VtableDecl& after) {
                    compare_vtable(before, after);
                });
    }

    void compare_vtable(const VtableDecl& before, const VtableDecl& after) {
        if (after.version < before.version) {
            add(Compatibility::Incompatible, "vtable-version-decreased",
                "'" + before.name + "' went from version " + std::to_string(before.version) +
                    " to " + std::to_string(after.version),
                before.version_location, after.version_location);
        }
        Policy before_policy = effective_policy(old_, before.policy);
        Policy after_policy = effective_policy(new_, after.policy);
        if (before_policy == Policy::Flexible && after_policy == Policy::Strict) {
            add(Compatibility::Incompatible, "policy-tightened",
                "'" + before.name +
                    "' went from flexible to strict: older providers would be refused",
                before.location, after.location);
        } else if (before_policy == Policy::Strict && after_policy == Policy::Flexible) {
            add(Compatibility::NeedsReview, "policy-relaxed",
                "'" + before.name +
                    "' went from strict to flexible: consumers must now handle ENOSYS",
                before.location, after.location);
        }
        if ((before.transport.mask & after.transport.mask) != before.transport.mask) {
            add(Compatibility::Incompatible, "transport-narrowed",
                "'" + before.name + "' transports went from " +
                    transport_text(before.transport.mask) + " to " +
                    transport_text(after.transport.mask),
                before.transport.location.line ? before.transport.location : before.location,
                after.transport.location.line ? after.transport.location : after.location);
        } else if (before.transport.mask != after.transport.mask) {
            add(Compatibility::Compatible, "transport-widened",
                "'" + before.name + "' transports went from " +
                    transport_text(before.transport.mask) + " to " +
                    transport_text(after.transport.mask),
                before.location, after.transport.location);
        }
        if (after.tier.minimum > before.tier.minimum || after.tier.maximum < before.tier.maximum) {
            add(Compatibility::Incompatible, "tier-narrowed",
                "'" + before.name + "' tier range went from " +
                    std::to_string(before.tier.minimum) + ".." +
                    std::to_string(before.tier.maximum) + " to " +
                    std::to_string(after.tier.minimum) + ".." + std::to_string(after.tier.maximum),
                before.tier.location.line ? before.tier.location : before.location,
                after.tier.location.line ? after.tier.location : after.location);
        } else if (after.tier.minimum != before.tier.minimum ||
                   after.tier.maximum != before.tier.maximum) {
            add(Compatibility::Compatible, "tier-widened",
                "'" + before.name + "' accepts more tiers", before.location, after.tier.location);
        }
        std::map<std::string, const Method*> after_names;
        for (const Method& method : after.methods) after_names[method.name] = &method;
        for (const Method& method : before.methods) {
            const Method* same_slot = after.method_at(method.ordinal);
            std::string qualified = "'" + before.name + "." + method.name + "'";
            auto moved = after_names.find(method.name);
            if (moved != after_names.end() && moved->second->ordinal != method.ordinal) {
                add(Compatibility::Incompatible, "method-renumbered",
                    qualified + " moved from @" + std::to_string(method.ordinal) + " to @" +
                        std::to_string(moved->second->ordinal),
                    method.ordinal_location, moved->second->ordinal_location);
                continue;
            }
            if (!same_slot) {
                {
                    add(Compatibility::Incompatible, "method-removed",
                        qualified + " (@" + std::to_string(method.ordinal) +
                            ") was removed; keep the slot as a tombstone",
                        method.location, after.location);
                }
                continue;
            }
            compare_method(before, method, *same_slot, after_names);
        }
        for (const Method& method : after.methods) {
            if (method.ordinal < before.slot_count()) continue;
            std::string qualified = "'" + after.name + "." + method.name + "'";
            if (method.since > before.version && after.version > before.version) {
                add(Compatibility::Compatible, "method-appended",
                    qualified + " appended at @" + std::to_string(method.ordinal) + " in version " +
                        std::to_string(method.since),
                    {}, method.location);
            } else {
                add(Compatibility::Incompatible, "method-appended-without-version-bump",
                    qualified + " was appended but says 'since " + std::to_string(method.since) +
                        "' and '" + after.name + "' is version " + std::to_string(after.version) +
                        " (was " + std::to_string(before.version) +
                        "); bump the vtable version and use it as 'since'",
                    {}, method.since_location);
            }
        }
    }

    void compare_method(const VtableDecl& vtable, const Method& before, const Method& after,
                        const std::map<std::string, const Method*>& after_names) {
        std::string qualified = "'" + vtable.name + "." + before.name + "'";
        if (before.tombstone && !after.tombstone) {
            add(Compatibility::Incompatible, "tombstone-revived",
                "slot @" + std::to_string(before.ordinal) + " was a tombstone and now holds '" +
                    after.name +
                    "': consumers of the old method would call it; append a new method instead",
                before.location, after.location);
            return;
        }
        if (!before.tombstone && after.tombstone) {
            if (returns_status(before)) {
                add(Compatibility::Compatible, "method-tombstoned",
                    qualified + " became a tombstone: old consumers get ENOSYS", before.location,
                    after.location);
            } else {
                add(Compatibility::NeedsReview, "method-tombstoned",
                    qualified + " became a tombstone but returned " +
                        (before.result ? before.result->spelling() : std::string("nothing")) +
                        ": old consumers see the tombstone's ENOSYS value (38) as a result",
                    before.location, after.location);
            }
            return;
        }
        if (before.since != after.since) {
            add(Compatibility::Incompatible, "method-since-changed",
                qualified + " changed 'since' from " + std::to_string(before.since) + " to " +
                    std::to_string(after.since),
                before.since_location, after.since_location);
        }
        if (before.tombstone) return;
        if (before.name != after.name) {
            if (!after_names.count(before.name)) {
                add(Compatibility::NeedsReview, "method-renamed",
                    qualified + " at @" + std::to_string(before.ordinal) + " was renamed to '" +
                        after.name + "'",
                    before.location, after.location);
            }
        }
        bool same_signature = before.params.size() == after.params.size() &&
                              before.result.has_value() == after.result.has_value() &&
                              (!before.result || old_key(*before.result) == new_key(*after.result));
        for (size_t index = 0; same_signature && index < before.params.size(); ++index) {
            const Param& left = before.params[index];
            const Param& right = after.params[index];
            same_signature =
                left.direction == right.direction && old_key(left.type) == new_key(right.type);
        }
        if (!same_signature) {
            add(Compatibility::Incompatible, "method-signature-changed",
                qualified + " changed from " + signature(before) + " to " + signature(after),
                before.location, after.location);
            return;
        }
        for (size_t index = 0; index < before.params.size(); ++index) {
            if (before.params[index].name != after.params[index].name) {
                add(Compatibility::Compatible, "parameter-renamed",
                    qualified + " parameter '" + before.params[index].name + "' is now '" +
                        after.params[index].name + "'",
                    before.params[index].location, after.params[index].location);
            }
        }
        std::set<std::string> before_errors, after_errors;
        for (const ErrorRef& error : before.errors) before_errors.insert(error.name);
        for (const ErrorRef& error : after.errors) {
            after_errors.insert(error.name);
            if (!before_errors.count(error.name)) {
                add(Compatibility::NeedsReview, "error-added",
                    qualified + " may now return " + error.name + ": check old callers handle it",
                    before.location, error.location);
            }
        }
        for (const ErrorRef& error : before.errors) {
            if (!after_errors.count(error.name)) {
                add(Compatibility::Compatible, "error-removed",
                    qualified + " no longer returns " + error.name, error.location, after.location);
            }
        }
    }

    void compare_states() {
        pair_up(
            old_.states, new_.states, "state",
            [&](const StateDecl& before, const StateDecl& after) {
                if (after.version < before.version) {
                    add(Compatibility::Incompatible, "state-version-decreased",
                        "state '" + before.name + "' went from version " +
                            std::to_string(before.version) + " to " + std::to_string(after.version),
                        before.version_location, after.version_location);
                }
                std::map<std::string, const Field*> after_fields;
                for (const Field& field : after.fields) after_fields[field.name] = &field;
                std::set<std::string> before_fields;
                for (const Field& field : before.fields) {
                    before_fields.insert(field.name);
                    std::string qualified = "'" + before.name + "." + field.name + "'";
                    auto found = after_fields.find(field.name);
                    if (found == after_fields.end()) {
                        add(Compatibility::Incompatible, "state-field-removed",
                            qualified +
                                " was deleted; keep it and mark it 'removed N' so old state still "
                                "imports",
                            field.location, after.location);
                        continue;
                    }
                    const Field& now = *found->second;
                    if (new_key(now.type) != old_key(field.type) || now.since != field.since) {
                        add(Compatibility::Incompatible, "state-field-changed",
                            qualified +
                                " changed type or 'since'; add a new field and retire this one "
                                "instead",
                            field.location, now.location);
                    } else if (field.removed == 0 && now.removed != 0) {
                        add(Compatibility::NeedsReview, "state-field-retired",
                            qualified + " is removed in version " + std::to_string(now.removed) +
                                ": review the migration hook",
                            field.location, now.location);
                    } else if (field.removed != now.removed) {
                        add(Compatibility::Incompatible, "state-field-changed",
                            qualified + " changed its 'removed' version", field.location,
                            now.location);
                    }
                }
                for (const Field& field : after.fields) {
                    if (before_fields.count(field.name)) continue;
                    std::string qualified = "'" + after.name + "." + field.name + "'";
                    if (field.since > before.version) {
                        add(Compatibility::Compatible, "state-field-appended",
                            qualified + " added in version " + std::to_string(field.since), {},
                            field.location);
                    } else {
                        add(Compatibility::Incompatible, "state-field-added-without-version-bump",
                            qualified + " is new but says 'since " + std::to_string(field.since) +
                                "'; bump the state version and use it",
                            {}, field.since_location);
                    }
                }
            });
    }

    void compare_modules() {
        pair_up(
            old_.modules, new_.modules, "module",
            [&](const ModuleDecl& before, const ModuleDecl& after) {
                if (after.version < before.version) {
                    add(Compatibility::Incompatible, "module-version-decreased",
                        "module '" + before.name + "' went from version " +
                            std::to_string(before.version) + " to " +
                            std::to_string(after.version) +
                            ": a bundle would take the older module for the newer",
                        before.version_location, after.version_location);
                }
                auto old_reference = [&](const InterfaceRef& reference) {
                    return declaration_key(reference.owner, old_, reference.name);
                };
                auto new_reference = [&](const InterfaceRef& reference) {
                    return declaration_key(reference.owner, new_, reference.name);
                };
                std::map<std::string, const InterfaceRef*> after_provides, after_requires,
                    before_requires;
                for (const InterfaceRef& reference : after.provides)
                    after_provides[new_reference(reference)] = &reference;
                for (const InterfaceRef& reference : after.requires_)
                    after_requires[new_reference(reference)] = &reference;
                for (const InterfaceRef& reference : before.requires_)
                    before_requires[old_reference(reference)] = &reference;
                for (const InterfaceRef& reference : before.provides) {
                    auto found = after_provides.find(old_reference(reference));
                    if (found == after_provides.end()) {
                        add(Compatibility::Incompatible, "provides-removed",
                            "module '" + before.name + "' no longer provides '" + reference.name +
                                "'",
                            reference.location, after.location);
                    } else if (found->second->version < reference.version) {
                        add(Compatibility::Incompatible, "provides-version-decreased",
                            "module '" + before.name + "' provides '" + reference.name +
                                "' at version " + std::to_string(found->second->version) +
                                " instead of " + std::to_string(reference.version),
                            reference.location, found->second->location);
                    }
                }
                for (const InterfaceRef& reference : after.requires_) {
                    auto found = before_requires.find(new_reference(reference));
                    if (found == before_requires.end()) {
                        add(Compatibility::NeedsReview, "requires-added",
                            "module '" + after.name + "' now requires '" + reference.name +
                                "'; bundles must provide it",
                            before.location, reference.location);
                    } else if (reference.version > found->second->version) {
                        add(Compatibility::NeedsReview, "requires-raised",
                            "module '" + after.name + "' now requires '" + reference.name +
                                "' >= " + std::to_string(reference.version) + " (was " +
                                std::to_string(found->second->version) + ")",
                            found->second->location, reference.location);
                    }
                }
                if ((before.transport.mask & after.transport.mask) != before.transport.mask) {
                    add(Compatibility::Incompatible, "transport-narrowed",
                        "module '" + before.name + "' transports went from " +
                            transport_text(before.transport.mask) + " to " +
                            transport_text(after.transport.mask),
                        before.transport.location.line ? before.transport.location
                                                       : before.location,
                        after.transport.location.line ? after.transport.location : after.location);
                }
                if (after.tier.minimum > before.tier.minimum ||
                    after.tier.maximum < before.tier.maximum) {
                    add(Compatibility::Incompatible, "tier-narrowed",
                        "module '" + before.name + "' tier range narrowed", before.location,
                        after.tier.location.line ? after.tier.location : after.location);
                }
            });
    }

    const File& old_;
    const File& new_;
    std::vector<CompatFinding> findings_;
};

}  // namespace

std::vector<CompatFinding> compare_packages(const File& old_file, const File& new_file) {
    return Comparer(old_file, new_file).run();
}

}  // namespace kabi
