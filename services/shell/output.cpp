#include "output.h"

#include "umka/line_text.h"

namespace umka::shell {

Output& Output::text(const char* value) {
    uint64_t length = 0;
    while (value[length] != '\0') ++length;
    return text(value, length);
}

Output& Output::text(const char* value, uint64_t length) {
    uint64_t room = capacity_ - length_;
    if (length > room) {
        length = room;
        state_ = OutputState::Truncated;
    }
    for (uint64_t index = 0; index < length; ++index) buffer_[length_ + index] = value[index];
    length_ += length;
    return *this;
}

Output& Output::character(char value) {
    return text(&value, 1);
}

Output& Output::spaces(uint64_t count) {
    for (uint64_t index = 0; index < count; ++index) character(' ');
    return *this;
}

Output& Output::left(const char* value, uint64_t width) {
    uint64_t length = 0;
    while (value[length] != '\0') ++length;
    text(value, length);
    return spaces(length < width ? width - length : 0);
}

// Decimal digits come from the SDK's LineText; Output only pads them.
using Digits = LineText<21>;

Output& Output::padded_left(const Digits& digits, uint64_t width) {
    spaces(digits.length() < width ? width - digits.length() : 0);
    return text(digits.data(), digits.length());
}

Output& Output::right(uint64_t value, uint64_t width) {
    Digits digits;
    return padded_left(digits.number(value), width);
}

Output& Output::signed_right(int64_t value, uint64_t width) {
    Digits digits;
    return padded_left(digits.signed_number(value), width);
}

Output& Output::left_number(uint64_t value, uint64_t width) {
    Digits digits;
    digits.number(value);
    text(digits.data(), digits.length());
    return spaces(digits.length() < width ? width - digits.length() : 0);
}

Output& Output::hex(uint64_t value, uint64_t digits) {
    static constexpr char kHex[] = "0123456789abcdef";
    uint64_t needed = 1;
    while (needed < 16 && (value >> (4 * needed)) != 0) ++needed;
    if (digits < needed) digits = needed;
    for (uint64_t index = digits; index > 0; --index) {
        uint64_t shift = 4 * (index - 1);
        character(shift < 64 ? kHex[(value >> shift) & 15] : '0');
    }
    return *this;
}

Output& Output::hex_bytes(const uint8_t* bytes, uint64_t count) {
    for (uint64_t index = 0; index < count; ++index) hex(bytes[index], 2);
    return *this;
}

}  // namespace umka::shell
