// Readable names for refusal messages: an Itanium C++ ABI mangled name such as
// _ZN12_GLOBAL__N_17counterE becomes "(anonymous namespace)::counter", _ZL7counter
// becomes "counter", _Z15external_helperm becomes "external_helper" (parameters dropped).
// Only plain and nested source names are decoded; anything else (templates,
// substitutions, operators) is shown as it is, which is still the exact symbol.
#pragma once

#include <stddef.h>

namespace umka::modules {

// Returns `name` itself when it is not a name this decodes, else `buffer`.
const char* readable_symbol_name(const char* name, char* buffer, size_t capacity);

}  // namespace umka::modules
