// Where a shell command writes: the console's output buffer (CommandSet.execute's
// `output`), filled with the column formats the nucleus's string shell printed (a module
// has no printf). Past the capacity the text is cut and the output marked truncated.
#pragma once

#include <stdint.h>

#include "umka/line_text.h"

namespace umka::shell {

enum class OutputState : uint8_t { Complete, Truncated };

class Output {
public:
    Output(char* buffer, uint64_t capacity) : buffer_(buffer), capacity_(capacity) {}

    Output& text(const char* text);
    Output& text(const char* text, uint64_t length);
    Output& character(char value);
    // A fixed-size record field: up to its first NUL.
    template <uint64_t N>
    Output& field(const uint8_t (&bytes)[N]) {
        return text(reinterpret_cast<const char*>(bytes), field_length(bytes, N));
    }
    // Text, then spaces up to `width` (printf's %-Ns).
    Output& left(const char* text, uint64_t width);
    template <uint64_t N>
    Output& left_field(const uint8_t (&bytes)[N], uint64_t width) {
        uint64_t length = field_length(bytes, N);
        text(reinterpret_cast<const char*>(bytes), length);
        return spaces(length < width ? width - length : 0);
    }
    Output& number(uint64_t value) { return right(value, 0); }
    // Right-aligned in `width` (%Nu); left-aligned (%-Nu).
    Output& right(uint64_t value, uint64_t width);
    Output& left_number(uint64_t value, uint64_t width);
    Output& signed_right(int64_t value, uint64_t width);
    // `digits` lowercase hex digits, zero-padded (%0Nlx); 0 digits: as many as needed.
    Output& hex(uint64_t value, uint64_t digits);
    Output& hex_bytes(const uint8_t* bytes, uint64_t count);
    Output& spaces(uint64_t count);

    const char* data() const { return buffer_; }
    uint64_t length() const { return length_; }
    OutputState state() const { return state_; }

    static uint64_t field_length(const uint8_t* bytes, uint64_t capacity) {
        uint64_t length = 0;
        while (length < capacity && bytes[length] != 0) ++length;
        return length;
    }

private:
    // Decimal digits right-aligned in `width`.
    Output& padded_left(const LineText<21>& digits, uint64_t width);

    char* buffer_;
    uint64_t capacity_;
    uint64_t length_ = 0;
    OutputState state_ = OutputState::Complete;
};

}  // namespace umka::shell
