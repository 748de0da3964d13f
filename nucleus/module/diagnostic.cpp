#include "nucleus/module/diagnostic.h"

#include <stdarg.h>

#include "nucleus/lib/format.h"

namespace umka::modules {

void Diagnostic::set(const char* pattern, ...) {
    va_list arguments;
    va_start(arguments, pattern);
    vformat(text_, kCapacity, pattern, arguments);
    va_end(arguments);
}

void Diagnostic::prefix(const char* pattern, ...) {
    char head[kCapacity];
    va_list arguments;
    va_start(arguments, pattern);
    vformat(head, kCapacity, pattern, arguments);
    va_end(arguments);
    char body[kCapacity];
    for (size_t index = 0; index < kCapacity; ++index) body[index] = text_[index];
    format(text_, kCapacity, "%s: %s", head, body);
}

Errno refuse(Diagnostic& diagnostic, Errno error, const char* pattern, ...) {
    char text[Diagnostic::kCapacity];
    va_list arguments;
    va_start(arguments, pattern);
    vformat(text, sizeof(text), pattern, arguments);
    va_end(arguments);
    diagnostic.set("%s", text);
    return error;
}

}  // namespace umka::modules
