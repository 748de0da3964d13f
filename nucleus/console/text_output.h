// Where a console command writes: a caller-owned buffer. The boot console prints it on the
// nucleus console; the Shell service hands it back to the console module.
#pragma once

#include <stdarg.h>
#include <stddef.h>

namespace umka::console {

enum class OutputState : unsigned char { Complete, Truncated };

class TextOutput {
public:
    TextOutput(char* buffer, size_t capacity) : buffer_(buffer), capacity_(capacity) {}

    void print(const char* pattern, ...) __attribute__((format(printf, 2, 3)));
    void write(const char* text, size_t length);

    const char* data() const { return buffer_; }
    size_t length() const { return length_; }
    OutputState state() const { return state_; }

    // For commands that never return (power-off): shows what was written so far on the
    // nucleus console, since no caller will get to print it.
    void show_now() const;

private:
    char* buffer_;
    size_t capacity_;
    size_t length_ = 0;
    OutputState state_ = OutputState::Complete;
};

}  // namespace umka::console
