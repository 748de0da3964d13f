// State-schema migration scaffolding. Each schema version gets its own struct; importing
// state saved at an older version walks version by version: append-only steps copy the
// shared fields and zero-extend, breaking steps call a hook the module must provide.
#include "emitters.h"
#include "naming.h"
#include "semantic.h"

namespace kabi {
namespace {

std::string version_type(const StateDecl& state, uint32_t version) {
    return state.name + "V" + std::to_string(version);
}

std::string hook_name(const StateDecl& state, uint32_t from) {
    return "migrate_" + to_snake_case(state.name) + "_from_v" + std::to_string(from);
}

void emit_state(const File& file, const StateDecl& state, std::string& out) {
    std::string snake = to_snake_case(state.name);
    Policy policy = effective_policy(file, state.policy);
    out += doc_comment(state.doc, "");
    out += "// State schema " + state.name + ", current version " + std::to_string(state.version) +
           ".\n";
    for (uint32_t version = 1; version <= state.version; ++version) {
        StateLayout layout = state_layout(state, version);
        std::string type = version_type(state, version);
        out += "struct " + type + " {\n";
        for (const Field* field : layout.fields) {
            out += doc_comment(field->doc, "    ");
            out += "    " + cpp_type(field->type) + " " + field->name +
                   (field->type.array_length ? "[" + std::to_string(field->type.array_length) + "]"
                                             : "") +
                   ";\n";
        }
        out += "};\n";
        out += "static_assert(sizeof(" + type + ") == " + std::to_string(layout.size) +
               " && std::is_trivially_copyable_v<" + type + ">);\n";
        for (size_t index = 0; index < layout.fields.size(); ++index) {
            out += "static_assert(offsetof(" + type + ", " + layout.fields[index]->name +
                   ") == " + std::to_string(layout.offsets[index]) + ");\n";
        }
    }
    out += "using " + state.name + " = " + version_type(state, state.version) + ";\n";
    out += "inline constexpr uint32_t " + snake + "_version = " + std::to_string(state.version) +
           ";\n\n";

    std::vector<uint32_t> hooks;
    for (uint32_t version = 2; version <= state.version; ++version) {
        if (state_has_hook(state, version - 1)) hooks.push_back(version - 1);
    }
    out += "namespace " + snake + "_migration {\n";
    if (hooks.empty()) {
        out += "// Every step is append-only: pass ::umka::kabi::NoMigrationHooks.\n";
    } else {
        out += "// Hooks the module must provide (static members of its Hooks type):\n";
        for (uint32_t from : hooks) {
            out += "//   static ::umka::kabi::Status " + hook_name(state, from) + "(const " +
                   version_type(state, from) + "& old_state, " + version_type(state, from + 1) +
                   "& new_state);\n";
        }
    }
    for (uint32_t version = 2; version <= state.version; ++version) {
        std::string from = version_type(state, version - 1);
        std::string to = version_type(state, version);
        out += "template <typename Hooks>\ninline ::umka::kabi::Status upgrade(const " + from +
               "& old_state, " + to + "& new_state) {\n";
        if (state_has_hook(state, version - 1)) {
            out += "    new_state = " + to + "{};\n";
            out += "    return ::umka::kabi::Status(::umka::kabi::status_raw(Hooks::" +
                   hook_name(state, version - 1) + "(old_state, new_state)));\n}\n";
            continue;
        }
        out += "    // Append-only: shared fields are copied, fields added in version " +
               std::to_string(version) + " are zero.\n";
        out += "    new_state = " + to + "{};\n";
        StateLayout old_layout = state_layout(state, version - 1);
        StateLayout new_layout = state_layout(state, version);
        for (const Field* field : new_layout.fields) {
            for (const Field* old_field : old_layout.fields) {
                if (old_field == field) {
                    out += "    __builtin_memcpy(&new_state." + field->name + ", &old_state." +
                           field->name + ", sizeof(new_state." + field->name + "));\n";
                }
            }
        }
        out += "    return ::umka::kabi::Status::ok();\n}\n";
    }
    out += "}  // namespace " + snake + "_migration\n\n";

    out += "// Imports state saved as `version` (size bytes at `bytes`) into the current schema.\n";
    out += "// EINVAL: wrong size for that version, or version 0";
    out += policy == Policy::Strict
               ? ", or a newer version (strict policy refuses unknown fields).\n"
               : ".\n// A newer version (flexible policy) keeps the fields this version knows and "
                 "drops the rest.\n";
    out += "template <typename Hooks>\ninline ::umka::kabi::Status import_" + snake +
           "(const void* bytes, uint32_t size, uint32_t version, " + state.name + "* out) {\n";
    out += "    if (bytes == nullptr || version == 0) return UMKA_KABI_EINVAL;\n";
    out += "    if (version > " + std::to_string(state.version) + "u) {\n";
    if (policy == Policy::Strict) {
        out += "        (void)size;\n        (void)out;\n        return UMKA_KABI_EINVAL;\n    }\n";
    } else {
        out += "        if (size < sizeof(" + state.name + ")) return UMKA_KABI_EINVAL;\n";
        out += "        __builtin_memcpy(out, bytes, sizeof(" + state.name + "));\n";
        out += "        return ::umka::kabi::Status::ok();\n    }\n";
    }
    for (uint32_t version = 1; version <= state.version; ++version) {
        std::string type = version_type(state, version);
        out += "    if (version == " + std::to_string(version) + "u) {\n";
        out += "        if (size != sizeof(" + type + ")) return UMKA_KABI_EINVAL;\n";
        out += "        " + type + " state_v" + std::to_string(version) + ";\n";
        out += "        __builtin_memcpy(&state_v" + std::to_string(version) + ", bytes, sizeof(" +
               type + "));\n";
        for (uint32_t step = version + 1; step <= state.version; ++step) {
            std::string next = "state_v" + std::to_string(step);
            out += "        " + version_type(state, step) + " " + next + ";\n";
            out += "        if (::umka::kabi::Status status = " + snake +
                   "_migration::upgrade<Hooks>(state_v" + std::to_string(step - 1) + ", " + next +
                   "); status.is_error()) return status;\n";
        }
        out += "        *out = state_v" + std::to_string(state.version) + ";\n";
        out += "        return ::umka::kabi::Status::ok();\n    }\n";
    }
    out += "    return UMKA_KABI_EINVAL;\n}\n\n";
}

}  // namespace

std::string emit_state_header(const File& file) {
    std::string out = "// Generated by kabi-gen from " + file.path + ". Do not edit.\n";
    out += "// State schemas of package " + file.package + ".\n#pragma once\n\n";
    out += "#include \"umka/kabi/" + file.package + ".hpp\"\n\n";
    if (file.states.empty()) return out + "// This package declares no state schemas.\n";
    out += "namespace umka::kabi::" + file.package + " {\n\n";
    for (const StateDecl& state : file.states) emit_state(file, state, out);
    out += "}  // namespace umka::kabi::" + file.package + "\n";
    return out;
}

}  // namespace kabi
