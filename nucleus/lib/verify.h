// Invariant checks that stay on in every build: a broken invariant stops the system at the
// line that found it instead of running on with corrupt state. In the kernel a failure
// panics (nucleus/panic.h) with "file:line: message"; in host builds (tests, tools) it
// prints the same line on stderr and aborts, so a googletest death test can match it.
//
//   VERIFY(frame < count);      // the condition's text is the message
//   VERIFY_NOT_REACHED();       // a path that must never run
#pragma once

#include <stdarg.h>

#if !defined(UMKA_KERNEL)
#include <stdio.h>
#include <stdlib.h>
#endif

#if defined(UMKA_KERNEL)
// nucleus/lib/verify.cpp: formats the message and panics.
extern "C" [[noreturn, gnu::cold]] void umka_verify_failed(const char* file, unsigned line,
                                                           const char* pattern, ...)
    __attribute__((format(printf, 3, 4)));
#else
extern "C" [[noreturn, gnu::cold]] inline __attribute__((format(printf, 3, 4))) void
umka_verify_failed(const char* file, unsigned line, const char* pattern, ...) {
    va_list arguments;
    va_start(arguments, pattern);
    fprintf(stderr, "%s:%u: ", file, line);
    vfprintf(stderr, pattern, arguments);
    fputc('\n', stderr);
    va_end(arguments);
    abort();
}
#endif

namespace umka::detail {

// A location taken with __builtin_FILE() is the path the compiler was given; the message
// keeps only the file's name, like VERIFY's __FILE_NAME__.
constexpr const char* file_name_of(const char* path) {
    const char* name = path;
    for (const char* at = path; *at != '\0'; ++at) {
        if (*at == '/') name = at + 1;
    }
    return name;
}

}  // namespace umka::detail

#define VERIFY(condition)               \
    (__builtin_expect(!!(condition), 1) \
         ? (void)0                      \
         : umka_verify_failed(__FILE_NAME__, __LINE__, "VERIFY(%s) failed", #condition))

#define VERIFY_NOT_REACHED() umka_verify_failed(__FILE_NAME__, __LINE__, "VERIFY_NOT_REACHED()")
