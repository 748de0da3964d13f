// Test-only boot hook: after bring-up, dereference an unmapped address two calls deep so
// the fault report must show a #PF, the faulting RIP inside fault_injection_trigger and a
// backtrace through its callers. Linked only into nucleus-faulttest.elf.
#include "nucleus/lib/log.h"
#include "nucleus/system.h"

extern "C" [[gnu::noinline]] void fault_injection_trigger() {
    // Through a volatile so the compiler cannot see (or warn about) the bad address.
    volatile uintptr_t address = 0x10;
    *reinterpret_cast<volatile uint64_t*>(address) = 0xDEADBEEF;
    asm volatile("" ::: "memory");
}

extern "C" [[gnu::noinline]] void fault_injection_caller() {
    fault_injection_trigger();
    asm volatile("" ::: "memory");
}

namespace umka {
void boot_test_hook() {
    log("fault-test: writing to unmapped address 0x10\n");
    fault_injection_caller();
}
}  // namespace umka
