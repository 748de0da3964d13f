// printf-style formatting into a fixed buffer: %s %c %d %i %u %x %p and %%, with the
// length modifiers l/ll/z, a field width (e.g. %8u, %016lx, %-12s) and a precision for
// strings (%.4s, %.*s: at most that many characters). No floating point.
#pragma once

#include <stdarg.h>
#include <stddef.h>

namespace umka {

// Returns the number of characters written (always NUL-terminates when capacity > 0).
size_t format(char* buffer, size_t capacity, const char* pattern, ...)
    __attribute__((format(printf, 3, 4)));
size_t vformat(char* buffer, size_t capacity, const char* pattern, va_list arguments);

}  // namespace umka
