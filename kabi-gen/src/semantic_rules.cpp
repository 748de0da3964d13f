// Semantic rules for vtables, state schemas and modules (see semantic_checker.h).
#include <map>
#include <set>

#include "errno_table.h"
#include "naming.h"
#include "semantic_checker.h"
#include "type_facts.h"

namespace kabi::detail {

void Checker::check_errors(Method& method) {
    std::set<std::string> seen;
    bool returns_status = method.result && method.result->kind == TypeKind::Builtin &&
                          method.result->builtin == BuiltinType::Status;
    for (ErrorRef& error : method.errors) {
        auto value = errno_value(error.name);
        if (!value) {
            std::string guess = closest_name(error.name, errno_names());
            sink_.error("unknown-errno", error.location,
                        "'" + error.name + "' is not a Linux errno name",
                        guess.empty() ? "use a name from Linux errno.h, e.g. EIO"
                                      : "did you mean '" + guess + "'?");
            continue;
        }
        error.value = *value;
        if (!seen.insert(error.name).second) {
            sink_.error("duplicate-error", error.location, "'" + error.name + "' is listed twice",
                        "remove one");
        }
    }
    if (!method.errors.empty() && !returns_status) {
        sink_.error("errors-need-status", method.errors.front().location,
                    "method '" + method.name + "' lists errors but does not return status",
                    "declare '-> status', or remove the errors list");
    }
}

void Checker::check_method(const VtableDecl& vtable, Method& method) {
    check_identifier(method.name, method.location, "method");
    static const std::set<std::string> ref_members = {
        "version",          "vtable_size",      "bind", "vtable", "context", "is_bound",
        "provider_version", "interface_version"};
    if (ref_members.count(method.name) || method.name.rfind("has_", 0) == 0 ||
        method.name.rfind("removed_", 0) == 0) {
        sink_.error(
            "reserved-name", method.location,
            "method name '" + method.name +
                "' collides with a member of the generated vtable or Ref",
            "rename the method, e.g. '" + method.name + "_" + to_snake_case(vtable.name) + "'");
    }
    if (method.since > vtable.version) {
        sink_.error("since-after-version", method.since_location,
                    "method '" + method.name + "' is added in version " +
                        std::to_string(method.since) + " but vtable '" + vtable.name +
                        "' is version " + std::to_string(vtable.version),
                    "bump the vtable to 'version " + std::to_string(method.since) + "'");
    }
    if (method.tombstone) {
        if (method.removed <= method.since || method.removed > vtable.version) {
            sink_.error("bad-tombstone", method.location,
                        "tombstone '" + method.name + "' must be removed after version " +
                            std::to_string(method.since) + " and no later than version " +
                            std::to_string(vtable.version),
                        "write 'removed " +
                            std::to_string(std::max(method.since + 1, vtable.version)) + "'");
        }
        return;
    }
    std::set<std::string> seen;
    for (Param& param : method.params) {
        check_identifier(param.name, param.location, "parameter");
        if (param.name == "context") {
            sink_.error("reserved-name", param.location,
                        "parameter name 'context' is the provider's context argument",
                        "rename the parameter");
        }
        if (!seen.insert(param.name).second) {
            sink_.error("duplicate-parameter", param.location,
                        "'" + param.name + "' is already a parameter of '" + method.name + "'",
                        "rename it");
        }
        if (!resolve(param.type)) continue;
        if (param.type.array_length != 0) {
            sink_.error("array-parameter", param.type.location,
                        "array parameter '" + param.name + "' has no defined calling convention",
                        "wrap the array in a struct and pass 'in " + param.name + ": ThatStruct'");
        }
        if (param.type.kind == TypeKind::Builtin && is_span(param.type.builtin) &&
            param.direction != ParamDirection::In) {
            sink_.error("bad-direction", param.location,
                        "'" + param.type.name + "' parameter '" + param.name +
                            "' cannot be 'out' or 'inout'",
                        "use 'bytes_mut' for a buffer the provider fills");
        }
    }
    if (method.result) {
        if (resolve(*method.result) && !is_scalar(*method.result)) {
            sink_.error("bad-result-type", method.result->location,
                        "'" + method.result->spelling() + "' cannot be returned",
                        "return status and pass 'out result: " + method.result->spelling() + "'");
        }
    }
    check_errors(method);
    bool resolved = !method.result || method.result->kind != TypeKind::Unresolved;
    for (const Param& param : method.params)
        resolved = resolved && param.type.kind != TypeKind::Unresolved;
    if (resolved && (vtable.transport.mask & (TransportRing | TransportIpc))) {
        RingRecordSizes sizes = ring_record_sizes(method);
        uint64_t largest = std::max(sizes.request, sizes.completion);
        if (largest > ring_payload_size) {
            sink_.error(
                "ring-record-too-large", method.location,
                "method '" + method.name + "' needs " + std::to_string(largest) +
                    " bytes of ring payload; a ring entry holds " +
                    std::to_string(ring_payload_size),
                "pass large data through a 'bytes'/'bytes_mut' span or a handle, or declare "
                "the vtable 'transport(direct)'");
        }
    }
}

void Checker::check_vtable(VtableDecl& vtable) {
    std::map<uint32_t, const Method*> ordinals;
    std::map<std::string, const Method*> names;
    for (Method& method : vtable.methods) {
        auto [existing, inserted] = ordinals.emplace(method.ordinal, &method);
        if (!inserted) {
            sink_.error("duplicate-ordinal", method.ordinal_location,
                        "ordinal @" + std::to_string(method.ordinal) + " is already used by '" +
                            existing->second->name + "'",
                        "use the next free ordinal @" + std::to_string(vtable.slot_count()));
        }
        if (!names.emplace(method.name, &method).second) {
            sink_.error("duplicate-method", method.location,
                        "'" + method.name + "' is already a method of '" + vtable.name + "'",
                        "rename it");
        }
        check_method(vtable, method);
    }
    if (vtable.methods.empty()) {
        sink_.error("empty-vtable", vtable.location, "vtable '" + vtable.name + "' has no methods",
                    "add a method: '@0 name() -> status since 1;'");
    }
    for (uint32_t ordinal = 0; ordinal < vtable.slot_count(); ++ordinal) {
        if (!ordinals.count(ordinal)) {
            sink_.error(
                "ordinal-gap", vtable.location,
                "vtable '" + vtable.name + "' has no method at ordinal @" + std::to_string(ordinal),
                "ordinals are dense slots; a removed method stays as '@" + std::to_string(ordinal) +
                    " tombstone NAME since A removed B;'");
        }
    }
}

void Checker::check_state(StateDecl& state) {
    size_t errors_before = sink_.error_count();
    check_fields_unique(state.fields, state.name);
    for (Field& field : state.fields) {
        resolve_data_type(field.type, "state field");
        if (field.since > state.version) {
            sink_.error("since-after-version", field.since_location,
                        "field '" + field.name + "' is added in version " +
                            std::to_string(field.since) + " but state '" + state.name +
                            "' is version " + std::to_string(state.version),
                        "bump the state to 'version " + std::to_string(field.since) + "'");
        }
        if (field.removed != 0 && (field.removed <= field.since || field.removed > state.version)) {
            sink_.error("bad-removal", field.location,
                        "field '" + field.name + "' must be removed after version " +
                            std::to_string(field.since) + " and no later than version " +
                            std::to_string(state.version),
                        "fix the 'removed' version");
        }
    }
    for (const Migration& migration : state.migrations) {
        if (migration.from_version == 0 || migration.from_version >= state.version) {
            sink_.error("bad-migration", migration.location,
                        "'migrate from " + std::to_string(migration.from_version) +
                            "' must name an older version than " + std::to_string(state.version),
                        "a hook migrates from version N to N+1");
        }
    }
    if (sink_.error_count() != errors_before) return;  // layouts need resolved fields
    for (uint32_t version = 1; version <= state.version; ++version) {
        StateLayout layout = state_layout(state, version);
        uint64_t offset = 0;
        for (size_t index = 0; index < layout.fields.size(); ++index) {
            const Field* field = layout.fields[index];
            if (layout.offsets[index] != offset) {
                sink_.error("implicit-padding", field->location,
                            "in version " + std::to_string(version) + " of state '" + state.name +
                                "', field '" + field->name + "' needs " +
                                std::to_string(layout.offsets[index] - offset) +
                                " byte(s) of padding before it",
                            "add a 'reserved_" + std::to_string(offset) + ": u8[" +
                                std::to_string(layout.offsets[index] - offset) +
                                "]' field before it");
            }
            offset = layout.offsets[index] + field->type.size;
        }
        if (offset % layout.alignment != 0) {
            sink_.error("implicit-padding", state.location,
                        "version " + std::to_string(version) + " of state '" + state.name +
                            "' ends at byte " + std::to_string(offset) +
                            ", not a multiple of its alignment " + std::to_string(layout.alignment),
                        "append a reserved field of " +
                            std::to_string(align_up(offset, layout.alignment) - offset) +
                            " byte(s)");
        }
        if (version > 1 && state_step_is_breaking(state, version) &&
            !state_has_hook(state, version - 1)) {
            sink_.error("missing-migration", state.version_location,
                        "state '" + state.name + "' removes a field in version " +
                            std::to_string(version) + " but has no migration hook",
                        "declare 'migrate from " + std::to_string(version - 1) +
                            ";' and implement the generated hook");
        }
    }
    for (Field& field : state.fields) {
        // Offsets in the current version, used by emitters.
        StateLayout layout = state_layout(state, state.version);
        for (size_t index = 0; index < layout.fields.size(); ++index) {
            if (layout.fields[index] == &field) field.offset = layout.offsets[index];
        }
    }
}

void Checker::resolve_interface(InterfaceRef& reference, const char* verb) {
    const File* owner = &file_;
    if (!reference.package.empty() && reference.package != file_.package) {
        owner = imported(reference.package);
        if (!owner) {
            sink_.error("unknown-package", reference.location,
                        "package '" + reference.package + "' is not imported",
                        "add 'import " + reference.package + ";' after the package line");
            return;
        }
    }
    std::vector<std::string> candidates;
    for (const VtableDecl& vtable : owner->vtables) {
        candidates.push_back(vtable.name);
        if (vtable.name == reference.name) {
            reference.resolved = &vtable;
            reference.owner = owner;
        }
    }
    if (!reference.resolved) {
        std::string guess = closest_name(reference.name, candidates);
        sink_.error("unknown-interface", reference.location,
                    "module " + std::string(verb) + " unknown vtable '" + reference.name + "'",
                    guess.empty() ? "name a vtable declared in this package or an imported one"
                                  : "did you mean '" + guess + "'?");
        return;
    }
    if (reference.version > reference.resolved->version) {
        sink_.error("version-too-new", reference.location,
                    "vtable '" + reference.name + "' is only at version " +
                        std::to_string(reference.resolved->version),
                    "use a version up to " + std::to_string(reference.resolved->version));
    }
}

void Checker::check_module(ModuleDecl& module) {
    std::set<std::string> seen;
    for (InterfaceRef& reference : module.provides) {
        resolve_interface(reference, "provides");
        if (!seen.insert("p:" + reference.package + "." + reference.name).second) {
            sink_.error("duplicate-interface", reference.location,
                        "'" + reference.name + "' is provided twice", "remove one line");
        }
        if (reference.resolved && module.transport.written &&
            (module.transport.mask & reference.resolved->transport.mask) == 0) {
            sink_.error("transport-mismatch", module.transport.location,
                        "module '" + module.name + "' offers no transport that vtable '" +
                            reference.name + "' allows",
                        "list a transport the vtable allows in the module's 'transport(...)'");
        }
    }
    for (InterfaceRef& reference : module.requires_) {
        resolve_interface(reference, "requires");
        if (!seen.insert("r:" + reference.package + "." + reference.name).second) {
            sink_.error("duplicate-interface", reference.location,
                        "'" + reference.name + "' is required twice", "remove one line");
        }
    }
    for (size_t index = 0; index < module.matches.size(); ++index) {
        const DeviceMatchDecl& match = module.matches[index];
        if (index == kMaximumDeviceMatches) {
            sink_.error("too-many-matches", match.location,
                        "module '" + module.name + "' has more than " +
                            std::to_string(kMaximumDeviceMatches) + " 'matches' clauses",
                        "match a class instead of each device, or split the driver");
        }
        for (size_t earlier = 0; earlier < index; ++earlier) {
            const DeviceMatchDecl& other = module.matches[earlier];
            if (other.kind == match.kind && other.first == match.first &&
                other.second == match.second) {
                sink_.error("duplicate-match", match.location,
                            "module '" + module.name + "' lists the same device match twice",
                            "remove one line");
            }
        }
    }
    for (StateRef& state : module.states) {
        for (const StateDecl& decl : file_.states) {
            if (decl.name == state.name) state.resolved = &decl;
        }
        if (!state.resolved) {
            sink_.error(
                "unknown-state", state.location,
                "module '" + module.name + "' names unknown state schema '" + state.name + "'",
                "declare 'state " + state.name + " version 1 { ... }' in this file");
        }
    }
}

}  // namespace kabi::detail
