// Errno names for messages ("EPERM"): the SDK's one table (umka/errno_text.h).
#pragma once

#include <stdint.h>

#include "umka/errno_text.h"

namespace umka::shell {

inline const char* errno_name(uint32_t code) {
    return umka::errno_text(code);
}

}  // namespace umka::shell
