#include "nucleus/lib/log.h"

#include <arch/early_console.h>

#include "nucleus/lib/format.h"
#include "nucleus/lib/spinlock.h"

namespace umka {
namespace {
constinit SpinLock console_lock{LockLevel::Console};
constexpr size_t kLineCapacity = 512;
}  // namespace

void log_write(const char* text, size_t length) {
    SpinLockGuard guard(console_lock);
    arch::early_console_write(text, length);
}

namespace {
enum class Locking : uint8_t { Serialised, PanicSafe };

void vlog(Locking locking, const char* pattern, va_list arguments) {
    char line[kLineCapacity];
    size_t length = vformat(line, sizeof line, pattern, arguments);
    if (locking == Locking::Serialised) {
        log_write(line, length);
    } else {
        arch::early_console_write(line, length);
    }
}
}  // namespace

void log(const char* pattern, ...) {
    va_list arguments;
    va_start(arguments, pattern);
    vlog(Locking::Serialised, pattern, arguments);
    va_end(arguments);
}

void log_panic(const char* pattern, ...) {
    va_list arguments;
    va_start(arguments, pattern);
    vlog(Locking::PanicSafe, pattern, arguments);
    va_end(arguments);
}

}  // namespace umka
