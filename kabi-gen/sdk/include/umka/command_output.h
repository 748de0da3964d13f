// A console command's answer, written straight into the caller's buffer
// (console_command.CommandSet.execute): what does not fit is cut and `truncated()` says so
// (the command then answers ENOSPC). Header-only and freestanding, for every module's
// commands.
#pragma once

#include <stdint.h>

#include "umka/line_text.h"

namespace umka {

class CommandOutput {
public:
    CommandOutput(char* data, uint64_t capacity) : data_(data), capacity_(capacity) {}

    template <uint64_t N>
    void line(const LineText<N>& text) {
        add(text.data(), text.length());
        add("\n", 1);
    }
    void add(const char* text, uint64_t length) {
        for (uint64_t index = 0; index < length; ++index) {
            if (length_ == capacity_) {
                truncated_ = true;
                return;
            }
            data_[length_++] = text[index];
        }
    }
    uint64_t length() const { return length_; }
    bool truncated() const { return truncated_; }

private:
    char* data_;
    uint64_t capacity_;
    uint64_t length_ = 0;
    bool truncated_ = false;
};

}  // namespace umka
