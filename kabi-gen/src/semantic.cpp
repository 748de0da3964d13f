// Semantic analysis, part 1: names, imports, type resolution, enums, structs. Vtables,
// state schemas and modules are in semantic_rules.cpp; the shared class in semantic_checker.h.
#include "semantic.h"

#include <map>
#include <set>

#include "errno_table.h"
#include "naming.h"
#include "semantic_checker.h"
#include "type_facts.h"

namespace kabi::detail {

void Checker::run() {
    check_package_name();
    collect_names();
    for (const DeclarationEntry& entry : file_.order) {
        switch (entry.kind) {
        case DeclarationKind::Enum:
            check_enum(file_.enums[entry.index]);
            break;
        case DeclarationKind::Struct:
            check_struct(file_.structs[entry.index]);
            break;
        case DeclarationKind::Handle:
            break;
        case DeclarationKind::Vtable:
            check_vtable(file_.vtables[entry.index]);
            break;
        case DeclarationKind::State:
            check_state(file_.states[entry.index]);
            break;
        case DeclarationKind::Module:
            check_module(file_.modules[entry.index]);
            break;
        }
        declared_.insert(declaration_name(entry));
    }
}

std::string Checker::declaration_name(const DeclarationEntry& entry) const {
    switch (entry.kind) {
    case DeclarationKind::Enum:
        return file_.enums[entry.index].name;
    case DeclarationKind::Struct:
        return file_.structs[entry.index].name;
    case DeclarationKind::Handle:
        return file_.handles[entry.index].name;
    case DeclarationKind::Vtable:
        return file_.vtables[entry.index].name;
    case DeclarationKind::State:
        return file_.states[entry.index].name;
    case DeclarationKind::Module:
        return file_.modules[entry.index].name;
    }
    return {};
}

SourceLocation Checker::declaration_location(const DeclarationEntry& entry) const {
    switch (entry.kind) {
    case DeclarationKind::Enum:
        return file_.enums[entry.index].location;
    case DeclarationKind::Struct:
        return file_.structs[entry.index].location;
    case DeclarationKind::Handle:
        return file_.handles[entry.index].location;
    case DeclarationKind::Vtable:
        return file_.vtables[entry.index].location;
    case DeclarationKind::State:
        return file_.states[entry.index].location;
    case DeclarationKind::Module:
        return file_.modules[entry.index].location;
    }
    return {};
}

void Checker::check_package_name() {
    std::string stem = file_.path;
    size_t slash = stem.find_last_of('/');
    if (slash != std::string::npos) stem = stem.substr(slash + 1);
    if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".kabi") == 0) {
        stem = stem.substr(0, stem.size() - 5);
        if (stem != file_.package) {
            sink_.error("package-name-mismatch", file_.package_location,
                        "package '" + file_.package + "' is declared in '" + stem + ".kabi'",
                        "imports find packages by file name: rename the file to '" + file_.package +
                            ".kabi' or the package to '" + stem + "'");
        }
    }
    check_identifier(file_.package, file_.package_location, "package");
    std::set<std::string> seen;
    for (const Import& import : file_.imports) {
        if (import.package == file_.package) {
            sink_.error("self-import", import.location,
                        "package '" + import.package + "' imports itself", "remove this import");
        } else if (!seen.insert(import.package).second) {
            sink_.error("duplicate-import", import.location,
                        "package '" + import.package + "' is imported twice", "remove one import");
        }
    }
}

void Checker::check_identifier(const std::string& name, const SourceLocation& location,
                               const char* what) {
    if (name.rfind("kabi_", 0) == 0 || name.rfind("umka_", 0) == 0 ||
        (!name.empty() && name.back() == '_')) {
        sink_.error("reserved-name", location,
                    std::string(what) + " name '" + name +
                        "' is reserved for generated code (prefix kabi_/umka_ or trailing '_')",
                    "choose another name");
        return;
    }
    if (is_reserved_word(name)) {
        sink_.error("reserved-name", location,
                    std::string(what) + " name '" + name + "' is reserved in C or C++",
                    "choose another name, e.g. '" + name + "_value'");
    }
}

void Checker::collect_names() {
    for (const DeclarationEntry& entry : file_.order) {
        std::string name = declaration_name(entry);
        SourceLocation location = declaration_location(entry);
        check_identifier(name, location, "declaration");
        auto [existing, inserted] = names_.emplace(name, entry);
        if (!inserted) {
            sink_.error("duplicate-name", location,
                        "'" + name + "' is already declared in package '" + file_.package + "'",
                        "rename one of them");
            sink_.note(declaration_location(existing->second), "first declared here");
        }
    }
    // Generated C++ adds <Vtable>Vtable and <Vtable>Ref; those must not collide either.
    for (const VtableDecl& vtable : file_.vtables) {
        for (const char* suffix : {"Vtable", "Ref", "Opcode"}) {
            auto found = names_.find(vtable.name + suffix);
            if (found != names_.end()) {
                sink_.error("generated-name-collision", declaration_location(found->second),
                            "'" + found->first +
                                "' collides with a name kabi-gen generates for vtable '" +
                                vtable.name + "'",
                            "rename '" + found->first + "'");
            }
        }
    }
}

bool Checker::resolve(TypeRef& type) {
    if (type.package.empty()) {
        if (auto builtin = builtin_from_name(type.name)) {
            type.kind = TypeKind::Builtin;
            type.builtin = *builtin;
            type.size = builtin_size(*builtin);
            type.alignment = type.size == 0 ? 8 : type.size;
            return finish_array(type);
        }
        auto found = names_.find(type.name);
        if (found == names_.end()) return unknown_type(type, file_);
        if (!declared_.count(type.name)) {
            sink_.error("type-used-before-declaration", type.location,
                        "'" + type.name + "' is used before its declaration",
                        "move the declaration of '" + type.name +
                            "' above this use; "
                            "generated C needs declaration order");
            return false;
        }
        return bind_named(type, file_, found->second);
    }
    const File* owner = imported(type.package);
    if (!owner) {
        sink_.error("unknown-package", type.location,
                    "package '" + type.package + "' is not imported",
                    "add 'import " + type.package + ";' after the package line");
        return false;
    }
    for (const DeclarationEntry& entry : owner->order) {
        if (entry.kind == DeclarationKind::Enum && owner->enums[entry.index].name == type.name) {
            return bind_named(type, *owner, entry);
        }
        if (entry.kind == DeclarationKind::Struct &&
            owner->structs[entry.index].name == type.name) {
            return bind_named(type, *owner, entry);
        }
        if (entry.kind == DeclarationKind::Handle &&
            owner->handles[entry.index].name == type.name) {
            return bind_named(type, *owner, entry);
        }
    }
    return unknown_type(type, *owner);
}

bool Checker::unknown_type(const TypeRef& type, const File& owner) {
    std::vector<std::string> candidates = {"u8",       "u16",    "u32",   "u64",      "i8",
                                           "i16",      "i32",    "i64",   "bool8",    "status",
                                           "dma_addr", "string", "bytes", "bytes_mut"};
    for (const EnumDecl& decl : owner.enums) candidates.push_back(decl.name);
    for (const StructDecl& decl : owner.structs) candidates.push_back(decl.name);
    for (const HandleDecl& decl : owner.handles) candidates.push_back(decl.name);
    std::string guess = closest_name(type.name, candidates);
    std::string fix = guess.empty() ? "declare it, or import the package that declares it"
                                    : "did you mean '" + guess + "'?";
    if (type.name == "bool") fix = "use 'bool8' (one byte, 0 or 1)";
    if (type.name == "usize" || type.name == "size_t")
        fix = "use 'u64': KABI types have fixed widths";
    sink_.error("unknown-type", type.location,
                "unknown type '" + type.spelling() + "'" +
                    (&owner == &file_ ? "" : " in package '" + owner.package + "'"),
                fix);
    return false;
}

bool Checker::bind_named(TypeRef& type, const File& owner, const DeclarationEntry& entry) {
    type.owner = &owner;
    switch (entry.kind) {
    case DeclarationKind::Enum: {
        const EnumDecl& decl = owner.enums[entry.index];
        type.kind = decl.is_flags ? TypeKind::Flags : TypeKind::Enum;
        type.enum_decl = &decl;
        type.size = decl.underlying.size;
        type.alignment = decl.underlying.alignment;
        break;
    }
    case DeclarationKind::Struct: {
        const StructDecl& decl = owner.structs[entry.index];
        type.kind = TypeKind::Struct;
        type.struct_decl = &decl;
        type.size = decl.declared_size;
        type.alignment = decl.declared_alignment;
        break;
    }
    case DeclarationKind::Handle:
        type.kind = TypeKind::Handle;
        type.handle_decl = &owner.handles[entry.index];
        type.size = 8;
        type.alignment = 8;
        break;
    default:
        sink_.error("not-a-type", type.location,
                    "'" + type.spelling() + "' is a " +
                        (entry.kind == DeclarationKind::Vtable  ? "vtable"
                         : entry.kind == DeclarationKind::State ? "state schema"
                                                                : "module") +
                        ", not a data type",
                    entry.kind == DeclarationKind::Vtable
                        ? "pass a capability to a service as a handle type"
                        : "");
        return false;
    }
    if (type.size == 0) return false;  // the named type itself was broken
    return finish_array(type);
}

bool Checker::finish_array(TypeRef& type) {
    if (type.array_length != 0) {
        if (type.kind == TypeKind::Builtin && is_span(type.builtin)) {
            sink_.error(
                "parameter-only-type", type.location,
                "'" + std::string(builtin_name(type.builtin)) + "' cannot be an array element",
                "spans are (pointer, length) parameters; use u8[N] for inline bytes");
            return false;
        }
        // Keeps every size far from overflow; no interface passes gigabytes inline.
        if (type.array_length > (uint64_t{1} << 20)) {
            sink_.error(
                "array-too-large", type.array_location,
                "array of " + std::to_string(type.array_length) + " elements is too large",
                "inline arrays hold at most 1048576 elements; pass bulk data as a span or a "
                "handle");
            return false;
        }
        type.size *= type.array_length;
    }
    return true;
}

const File* Checker::imported(const std::string& package) const {
    for (const Import& import : file_.imports) {
        if (import.package == package) return lookup_(package);
    }
    return nullptr;
}

bool Checker::resolve_data_type(TypeRef& type, const char* where) {
    if (!resolve(type)) return false;
    if (type.kind == TypeKind::Builtin && is_span(type.builtin)) {
        sink_.error("parameter-only-type", type.location,
                    "'" + type.name + "' cannot be used in a " + where,
                    "spans are (pointer, length) method parameters; store a fixed array (u8[N]) "
                    "or a handle instead");
        return false;
    }
    return true;
}

void Checker::check_enum(EnumDecl& decl) {
    const char* kind = decl.is_flags ? "flags" : "enum";
    if (!resolve(decl.underlying)) return;
    const TypeRef& underlying = decl.underlying;
    bool integer = underlying.kind == TypeKind::Builtin && underlying.array_length == 0 &&
                   is_integer(underlying.builtin);
    if (!integer || (decl.is_flags && !is_unsigned_integer(underlying.builtin))) {
        sink_.error("bad-underlying-type", underlying.location,
                    std::string(kind) + " '" + decl.name + "' cannot be based on '" +
                        underlying.spelling() + "'",
                    decl.is_flags ? "use an unsigned integer: u8, u16, u32 or u64"
                                  : "use a fixed-width integer such as u32");
        decl.underlying.size = 0;
        return;
    }
    if (decl.members.empty()) {
        sink_.error("empty-enum", decl.location,
                    std::string(kind) + " '" + decl.name + "' has no members",
                    "add at least one member");
    }
    uint64_t bits = underlying.size * 8;
    bool is_signed = !is_unsigned_integer(underlying.builtin);
    uint64_t limit =
        bits == 64 ? (is_signed ? INT64_MAX : UINT64_MAX)
                   : (is_signed ? (uint64_t{1} << (bits - 1)) - 1 : (uint64_t{1} << bits) - 1);
    std::map<std::string, const EnumMember*> names;
    std::map<uint64_t, const EnumMember*> values;
    for (const EnumMember& member : decl.members) {
        check_identifier(member.name, member.location, "member");
        if (!names.emplace(member.name, &member).second) {
            sink_.error("duplicate-member", member.location,
                        "'" + member.name + "' is already a member of '" + decl.name + "'",
                        "rename or remove it");
        }
        if (member.value > limit) {
            sink_.error("value-out-of-range", member.value_location,
                        "value " + std::to_string(member.value) + " does not fit in '" +
                            underlying.name + "'",
                        "use a wider underlying type, or a smaller value");
            continue;
        }
        if (decl.is_flags && !is_power_of_two(member.value)) {
            sink_.error("flag-not-single-bit", member.value_location,
                        "flag '" + member.name + "' must be exactly one bit",
                        "use a power of two such as 0x" + std::to_string(1) +
                            "; combine flags at the use site");
        }
        auto [existing, inserted] = values.emplace(member.value, &member);
        if (!inserted) {
            sink_.error(
                "duplicate-value", member.value_location,
                "'" + member.name + "' has the same value as '" + existing->second->name + "'",
                "each value has one meaning forever: pick an unused value");
        }
    }
}

uint64_t Checker::lay_out(std::vector<Field*> fields, const std::string& owner_name,
                          uint64_t* max_alignment) {
    uint64_t offset = 0;
    for (Field* field : fields) {
        if (field->type.size == 0) continue;
        uint64_t aligned = align_up(offset, field->type.alignment);
        if (aligned != offset) {
            sink_.error("implicit-padding", field->location,
                        "field '" + field->name + "' of '" + owner_name + "' needs " +
                            std::to_string(aligned - offset) + " byte(s) of padding before it",
                        "add 'reserved_" + std::to_string(offset) + ": u8[" +
                            std::to_string(aligned - offset) + "];' before '" + field->name +
                            "', or reorder fields by size");
        }
        field->offset = aligned;
        offset = aligned + field->type.size;
        *max_alignment = std::max(*max_alignment, field->type.alignment);
    }
    return offset;
}

void Checker::check_fields_unique(const std::vector<Field>& fields, const std::string& owner) {
    std::set<std::string> seen;
    for (const Field& field : fields) {
        check_identifier(field.name, field.location, "field");
        if (!seen.insert(field.name).second) {
            sink_.error("duplicate-field", field.location,
                        "'" + field.name + "' is already a field of '" + owner + "'", "rename it");
        }
    }
}

void Checker::check_struct(StructDecl& decl) {
    check_fields_unique(decl.fields, decl.name);
    bool resolved = true;
    std::vector<Field*> fields;
    for (Field& field : decl.fields) {
        resolved = resolve_data_type(field.type, "struct field") && resolved;
        fields.push_back(&field);
    }
    if (decl.fields.empty()) {
        sink_.error("empty-struct", decl.location, "struct '" + decl.name + "' has no fields",
                    "C and C++ disagree on empty structs; add a field");
    }
    if (!is_power_of_two(decl.declared_alignment) || decl.declared_alignment > 4096) {
        sink_.error("bad-alignment", decl.alignment_location,
                    "alignment " + std::to_string(decl.declared_alignment) +
                        " is not a power of two up to 4096",
                    "use 1, 2, 4, 8, 16, 32 or 64");
        decl.declared_size = 0;
        return;
    }
    uint64_t natural = 1;
    uint64_t end = lay_out(fields, decl.name, &natural);
    if (!resolved) {
        decl.declared_size = 0;  // uses of this struct are not checked further
        return;
    }
    if (decl.declared_alignment < natural) {
        sink_.error("bad-alignment", decl.alignment_location,
                    "struct '" + decl.name + "' declares align " +
                        std::to_string(decl.declared_alignment) + " but its fields need " +
                        std::to_string(natural),
                    "declare 'align " + std::to_string(natural) + "'");
        decl.declared_size = 0;
        return;
    }
    if (decl.declared_size != end || end % decl.declared_alignment != 0) {
        uint64_t padded = align_up(end, decl.declared_alignment);
        std::string fix =
            end == padded
                ? "declare 'size " + std::to_string(end) + "'"
                : "add 'reserved_" + std::to_string(end) + ": u8[" + std::to_string(padded - end) +
                      "];' at the end and declare 'size " + std::to_string(padded) + "'";
        sink_.error(
            "size-mismatch", decl.size_location,
            "struct '" + decl.name + "' declares size " + std::to_string(decl.declared_size) +
                " but its fields end at byte " + std::to_string(end) +
                (end % decl.declared_alignment != 0 ? " (not a multiple of its alignment)" : ""),
            fix);
        decl.declared_size = 0;
    }
}

}  // namespace kabi::detail

namespace kabi {
namespace {

using detail::align_up;

uint64_t record_size(const std::vector<std::pair<uint64_t, uint64_t>>& members) {
    uint64_t offset = 0;
    uint64_t alignment = 1;
    for (auto [size, align] : members) {
        offset = align_up(offset, align) + size;
        alignment = std::max(alignment, align);
    }
    return align_up(offset, alignment);
}

}  // namespace

void check_file(File& file, const PackageLookup& lookup, DiagnosticSink& sink) {
    detail::Checker(file, lookup, sink).run();
}

RingRecordSizes ring_record_sizes(const Method& method) {
    std::vector<std::pair<uint64_t, uint64_t>> request, completion;
    for (const Param& param : method.params) {
        const TypeRef& type = param.type;
        if (type.kind == TypeKind::Builtin && is_span(type.builtin)) {
            request.push_back({16, 8});  // u64 address, u64 length
            continue;
        }
        if (param.direction != ParamDirection::Out) request.push_back({type.size, type.alignment});
        if (param.direction != ParamDirection::In)
            completion.push_back({type.size, type.alignment});
    }
    if (method.result && !(method.result->kind == TypeKind::Builtin &&
                           method.result->builtin == BuiltinType::Status)) {
        completion.push_back({method.result->size, method.result->alignment});
    }
    return RingRecordSizes{record_size(request), record_size(completion)};
}

StateLayout state_layout(const StateDecl& state, uint32_t version) {
    StateLayout layout;
    uint64_t offset = 0;
    for (const Field& field : state.fields) {
        if (field.since > version || (field.removed != 0 && field.removed <= version)) continue;
        if (field.type.size == 0) continue;
        offset = align_up(offset, field.type.alignment);
        layout.fields.push_back(&field);
        layout.offsets.push_back(offset);
        offset += field.type.size;
        layout.alignment = std::max(layout.alignment, field.type.alignment);
    }
    layout.size = align_up(offset, layout.alignment);
    return layout;
}

bool state_step_is_breaking(const StateDecl& state, uint32_t version) {
    for (const Field& field : state.fields) {
        if (field.removed == version) return true;
    }
    // A field added in this version but declared before a field that already existed
    // shifts the older field: not append-only either.
    bool saw_new = false;
    for (const Field& field : state.fields) {
        if (field.since > version || (field.removed != 0 && field.removed < version)) continue;
        if (field.since == version)
            saw_new = true;
        else if (saw_new)
            return true;
    }
    return false;
}

bool state_has_hook(const StateDecl& state, uint32_t from_version) {
    for (const Migration& migration : state.migrations) {
        if (migration.from_version == from_version) return true;
    }
    return false;
}

}  // namespace kabi
