// One name in a directory, as Linux takes it (NAME_MAX 255, no '/', no NUL, not "." or ".."),
// checked the same way by every file system module. Header-only and freestanding, shared
// through the SDK.
#pragma once

#include <stdint.h>

#include "umka/kabi/kabi_base.h"

namespace umka::file_names {

inline constexpr uint32_t kMaximumLength = 255;

inline bool is_dot_or_dot_dot(const char* name, uint32_t length) {
    return (length == 1 && name[0] == '.') || (length == 2 && name[0] == '.' && name[1] == '.');
}

// EINVAL or ENAMETOOLONG for a name no entry may have ("." and ".." included).
inline kabi::Status validate(const char* name, uint32_t length) {
    if (name == nullptr || length == 0) return UMKA_KABI_EINVAL;
    if (length > kMaximumLength) return UMKA_KABI_ENAMETOOLONG;
    for (uint32_t index = 0; index < length; ++index) {
        if (name[index] == '/' || name[index] == '\0') return UMKA_KABI_EINVAL;
    }
    if (is_dot_or_dot_dot(name, length)) return UMKA_KABI_EINVAL;
    return kabi::Status::ok();
}

}  // namespace umka::file_names
