// Small helpers for the NUL-terminated, bounded names of manifests and ELF string tables.
// No libc in the nucleus, and every read stays inside its bound.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace umka::modules {

// Length of `text` if a NUL occurs within `bound` bytes, else `bound` (meaning "none").
constexpr size_t bounded_length(const char* text, size_t bound) {
    size_t length = 0;
    while (length < bound && text[length] != '\0') ++length;
    return length;
}

constexpr bool names_equal(const char* left, const char* right) {
    size_t index = 0;
    while (left[index] != '\0' && left[index] == right[index]) ++index;
    return left[index] == right[index];
}

// KABI identifiers: a letter or '_' first, then letters, digits and '_'. Manifest names are
// printed on the console, so nothing else is let through.
constexpr bool is_identifier(const char* text, size_t length) {
    if (length == 0) return false;
    for (size_t index = 0; index < length; ++index) {
        char character = text[index];
        bool letter = (character >= 'a' && character <= 'z') ||
                      (character >= 'A' && character <= 'Z') || character == '_';
        bool digit = character >= '0' && character <= '9';
        if (!letter && !(digit && index > 0)) return false;
    }
    return true;
}

// Copies `source` into a fixed array, truncating; the result is always NUL-terminated.
constexpr void copy_name(char* destination, size_t capacity, const char* source) {
    size_t index = 0;
    for (; index + 1 < capacity && source[index] != '\0'; ++index) {
        destination[index] = source[index];
    }
    for (; index < capacity; ++index) destination[index] = '\0';
}

}  // namespace umka::modules
