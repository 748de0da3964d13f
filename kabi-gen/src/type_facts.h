// What kabi-gen knows about each builtin type: size, where it may appear, how it is spelt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ast.h"

namespace kabi {

std::optional<BuiltinType> builtin_from_name(std::string_view name);
const char* builtin_name(BuiltinType type);
uint64_t builtin_size(BuiltinType type);  // 0 for parameter-only spans
bool is_span(BuiltinType type);           // string, bytes, bytes_mut: parameters only
bool is_integer(BuiltinType type);
bool is_unsigned_integer(BuiltinType type);

// A type passed in one register: integers, bool8, status, dma_addr, enums, flags, handles.
bool is_scalar(const TypeRef& type);

// Names the C and C++ emitters must not produce as identifiers.
bool is_reserved_word(std::string_view name);

}  // namespace kabi
