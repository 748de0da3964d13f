// Errno names for messages ("EPERM"), as the nucleus's own log prints them.
#pragma once

#include <stdint.h>

namespace umka::shell {

// "E..." for the errnos KABI calls return; "errno" for any other.
const char* errno_name(uint32_t code);

}  // namespace umka::shell
