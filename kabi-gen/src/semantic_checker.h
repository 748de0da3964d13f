// The semantic checker's internals, shared by semantic.cpp (names, types, enums, structs)
// and semantic_rules.cpp (vtables, state schemas, modules). Not part of kabi-gen's API.
#pragma once

#include <map>
#include <set>
#include <string>

#include "ast.h"
#include "diagnostics.h"
#include "semantic.h"

namespace kabi::detail {

inline bool is_power_of_two(uint64_t value) {
    return value != 0 && (value & (value - 1)) == 0;
}
inline uint64_t align_up(uint64_t value, uint64_t alignment) {
    if (alignment == 0) return value;  // unresolved types have no alignment; already reported
    return (value + alignment - 1) / alignment * alignment;
}

class Checker {
public:
    Checker(File& file, const PackageLookup& lookup, DiagnosticSink& sink)
        : file_(file), lookup_(lookup), sink_(sink) {}

    void run();

private:
    std::string declaration_name(const DeclarationEntry& entry) const;

    SourceLocation declaration_location(const DeclarationEntry& entry) const;

    void check_package_name();

    void check_identifier(const std::string& name, const SourceLocation& location,
                          const char* what);

    void collect_names();

    // Resolves a type reference; `context` names where the type appears, for messages.
    bool resolve(TypeRef& type);

    bool unknown_type(const TypeRef& type, const File& owner);

    bool bind_named(TypeRef& type, const File& owner, const DeclarationEntry& entry);

    bool finish_array(TypeRef& type);

    const File* imported(const std::string& package) const;

    bool resolve_data_type(TypeRef& type, const char* where);

    void check_enum(EnumDecl& decl);

    // Lays out fields in order; reports implicit padding. Returns the end offset.
    uint64_t lay_out(std::vector<Field*> fields, const std::string& owner_name,
                     uint64_t* max_alignment);

    void check_fields_unique(const std::vector<Field>& fields, const std::string& owner);

    void check_struct(StructDecl& decl);

    void check_errors(Method& method);

    void check_method(const VtableDecl& vtable, Method& method);

    void check_vtable(VtableDecl& vtable);

    void check_state(StateDecl& state);

    void resolve_interface(InterfaceRef& reference, const char* verb);

    void check_module(ModuleDecl& module);

    File& file_;
    const PackageLookup& lookup_;
    DiagnosticSink& sink_;
    std::map<std::string, DeclarationEntry> names_;
    std::set<std::string> declared_;
};

}  // namespace kabi::detail
