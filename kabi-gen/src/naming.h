// How IDL names become C and C++ names, shared by every emitter so they always agree.
#pragma once

#include <string>
#include <string_view>

#include "ast.h"

namespace kabi {

std::string to_snake_case(std::string_view name);  // BlockDevice -> block_device
std::string to_upper_case(std::string_view name);  // block_device -> BLOCK_DEVICE
std::string to_camel_case(std::string_view name);  // get_geometry -> GetGeometry

// C: umka_<package>_<snake name>; C++: ::umka::kabi::<package>::<Name>.
std::string c_type_name(const std::string& package, const std::string& name);
std::string c_constant_prefix(const std::string& package, const std::string& name);
std::string cpp_namespace(const std::string& package);

// The type as a struct field or by-value parameter, without array brackets.
std::string c_type(const TypeRef& type);
std::string cpp_type(const TypeRef& type);

// The C parameter list of a vtable slot after `void* context` (shared by C and C++, which
// name types differently): e.g. ", uint64_t sector, const umka_x_geometry* geometry".
enum class Language { C, Cpp };
std::string slot_parameters(const Method& method, Language language);
std::string slot_result(const Method& method, Language language);  // "int32_t", "void", ...
// Argument names in order, for forwarding: ", sector, geometry".
std::string slot_arguments(const Method& method);

bool returns_status(const Method& method);
bool returns_nothing(const Method& method);
bool is_span_param(const Param& param);

// Byte offset just past a method's slot: the vtable_size a provider must have for it.
inline uint32_t slot_end(uint32_t ordinal) {
    return 8 + 8 * (ordinal + 1);
}

// `/// text` lines for a doc comment at `indent`.
std::string doc_comment(const std::string& doc, const std::string& indent);

}  // namespace kabi
