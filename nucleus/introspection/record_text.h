// Names into the introspection records' fixed byte arrays (kabi-idl/introspection.kabi):
// NUL-terminated, cut to the field, never overflowing it; the rest zero-filled.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace umka::introspection {

template <size_t N>
void copy_text(uint8_t (&field)[N], const char* text) {
    size_t length = 0;
    while (text != nullptr && length + 1 < N && text[length] != '\0') {
        field[length] = uint8_t(text[length]);
        ++length;
    }
    for (; length < N; ++length) field[length] = 0;
}

}  // namespace umka::introspection
