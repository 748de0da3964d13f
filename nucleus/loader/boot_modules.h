// Loading the bundle's modules at boot: verify each signature, load and check each ELF,
// resolve requires/provides into a load order, bind in that order. A module that fails is
// refused with its reason and boot carries on without it (unless it is critical).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace umka::loader {

// From the bundle inventory read_bundle kept (module_system.h).
void load_boot_modules();

// Calls each loaded boot module's start function (module_entry.h), in the order they were
// bound, once the scheduler runs: what a module does with its services happens here, never
// in its entry. A failed start is reported and shown by `mods`; the module stays bound.
// Then binds the nucleus to memory.Heap, so `services` lists that binding from the start.
void start_boot_modules();

// The last step of bring-up: runs the console module if one loaded, otherwise (or when it
// returns) the nucleus's own console.
[[noreturn]] void start_console();

}  // namespace umka::loader
