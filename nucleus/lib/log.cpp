#include "nucleus/lib/log.h"

#include <arch/early_console.h>

#include "nucleus/lib/format.h"
#include "nucleus/lib/spinlock.h"

namespace umka {
namespace {
constinit SpinLock console_lock;
constexpr size_t kLineCapacity = 512;
}  // namespace

void log_write(const char* text, size_t length) {
    SpinLockGuard guard(console_lock);
    arch::early_console_write(text, length);
}

void log(const char* pattern, ...) {
    char line[kLineCapacity];
    va_list arguments;
    va_start(arguments, pattern);
    size_t length = vformat(line, sizeof line, pattern, arguments);
    va_end(arguments);
    log_write(line, length);
}

void log_panic(const char* pattern, ...) {
    char line[kLineCapacity];
    va_list arguments;
    va_start(arguments, pattern);
    size_t length = vformat(line, sizeof line, pattern, arguments);
    va_end(arguments);
    arch::early_console_write(line, length);
}

}  // namespace umka
