#include "nucleus/panic.h"

#include <arch/cpu.h>
#include <arch/early_console.h>
#include <arch/interrupts.h>
#include <stdarg.h>

#include <atomic>

#include "nucleus/lib/format.h"
#include "nucleus/smp/cpu_table.h"

namespace umka {
namespace {
constinit std::atomic<bool> panicking{false};
}

bool panic_in_progress() {
    return panicking.load(std::memory_order_acquire);
}

bool begin_panic() {
    bool expected = false;
    return panicking.compare_exchange_strong(expected, true, std::memory_order_acq_rel);
}

void panic(const char* pattern, ...) {
    arch::save_and_disable_interrupts();
    if (!begin_panic()) arch::halt_forever();
    arch::stop_other_cpus();
    char line[512];
    va_list arguments;
    va_start(arguments, pattern);
    size_t length = vformat(line, sizeof line, pattern, arguments);
    va_end(arguments);
    arch::early_console_write("PANIC: ", 7);
    arch::early_console_write(line, length);
    arch::early_console_write("\nhalted\n", 8);
    arch::halt_forever();
}

}  // namespace umka

// An abstract class's vtable names this for its pure methods (evolution::Environment);
// it is reached only through a bug (a call during construction or destruction).
extern "C" [[noreturn]] void __cxa_pure_virtual() { umka::panic("pure virtual method called"); }
