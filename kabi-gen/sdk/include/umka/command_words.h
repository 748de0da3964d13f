// The words of a console command as console_command.CommandSet.execute hands them over:
// `count` NUL-terminated words packed in `arguments[0, length)`. Checked, because a module
// cannot trust its caller's buffer: the last byte must be a NUL, the buffer must hold at
// least `count` words (bytes after the count-th are ignored), and `count` is at most
// `capacity`. Header-only and freestanding, shared by every module that offers commands.
#pragma once

#include <stdint.h>

namespace umka {

// Fills words[0, count) with pointers into `arguments`; false when the packing is wrong.
inline bool split_command_words(const void* arguments, uint64_t length, uint32_t count,
                                const char** words, uint32_t capacity) {
    const char* bytes = static_cast<const char*>(arguments);
    if (count == 0 || count > capacity || length == 0 || bytes[length - 1] != '\0') return false;
    uint32_t found = 0;
    for (uint64_t offset = 0; offset < length && found < count;) {
        words[found++] = bytes + offset;
        while (bytes[offset] != '\0') ++offset;
        ++offset;
    }
    return found == count;
}

// Whether two NUL-terminated words are equal (a module has no strcmp).
inline bool same_word(const char* left, const char* right) {
    while (*left != '\0' && *left == *right) {
        ++left;
        ++right;
    }
    return *left == *right;
}

}  // namespace umka
