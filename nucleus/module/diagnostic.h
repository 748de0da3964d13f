// The one-line reason that goes with every refusal of the module system ("relocation type 7
// (R_X86_64_JUMP_SLOT) at offset 0x1234 against symbol 'printf'"). Fixed capacity, filled
// with umka::format, so refusal paths never allocate and work the same in the nucleus and
// in the host tests.
#pragma once

#include <stddef.h>

#include "nucleus/lib/status.h"

namespace umka::modules {

class Diagnostic {
public:
    static constexpr size_t kCapacity = 256;

    constexpr Diagnostic() = default;

    // Replaces the text (longer text is cut at kCapacity - 1 characters).
    void set(const char* pattern, ...) __attribute__((format(printf, 2, 3)));
    // Prepends "prefix: " to the current text, e.g. the module name or "manifest".
    void prefix(const char* pattern, ...) __attribute__((format(printf, 2, 3)));
    void clear() { text_[0] = '\0'; }

    bool is_empty() const { return text_[0] == '\0'; }
    const char* text() const { return text_; }

private:
    char text_[kCapacity] = {};
};

// Records the reason and returns the error, so a refusal is one statement:
//   return refuse(diagnostic, Errno::ExecFormat, "no PT_LOAD segment");
Errno refuse(Diagnostic& diagnostic, Errno error, const char* pattern, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace umka::modules
