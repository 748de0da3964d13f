// Loading the bundle's modules at boot: verify each signature, load and check each ELF,
// resolve requires/provides into a load order, bind in that order. A module that fails is
// refused with its reason and boot carries on without it (unless it is critical).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace umka::loader {

void load_boot_modules(const uint8_t* bundle, size_t size);

// The last step of bring-up: runs the console module if one loaded, otherwise (or when it
// returns) the nucleus's own console.
[[noreturn]] void start_console();

}  // namespace umka::loader
