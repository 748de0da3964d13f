// The kernel's VERIFY failure: the report goes through panic(), which stops every CPU.
#include "nucleus/lib/verify.h"

#include "nucleus/lib/format.h"
#include "nucleus/panic.h"

extern "C" void umka_verify_failed(const char* file, unsigned line, const char* pattern, ...) {
    char message[256];
    va_list arguments;
    va_start(arguments, pattern);
    (void)umka::vformat(message, sizeof message, pattern, arguments);
    va_end(arguments);
    umka::panic("%s:%u: %s", file, line, message);
}
