// Copying a name into a fixed field: whole or not at all. A name that does not fit
// (with its terminating NUL) is refused rather than cut, so a shortened name can never
// name something else. Header-only and freestanding.
#pragma once

#include <stddef.h>

namespace umka {

// Copies the first `length` bytes of `source` (no NUL inside) and a NUL into
// destination[0, capacity); false (destination left empty) if they do not fit or the
// name holds a NUL.
inline bool copy_name(char* destination, size_t capacity, const char* source, size_t length) {
    if (capacity == 0) return false;
    destination[0] = '\0';
    if (length >= capacity) return false;
    for (size_t index = 0; index < length; ++index) {
        if (source[index] == '\0') {
            destination[0] = '\0';
            return false;
        }
        destination[index] = source[index];
    }
    destination[length] = '\0';
    return true;
}

// The NUL-terminated `source`, whole or not at all.
inline bool copy_name(char* destination, size_t capacity, const char* source) {
    size_t length = 0;
    while (source[length] != '\0') {
        if (length >= capacity) {
            if (capacity != 0) destination[0] = '\0';
            return false;
        }
        ++length;
    }
    return copy_name(destination, capacity, source, length);
}

}  // namespace umka
