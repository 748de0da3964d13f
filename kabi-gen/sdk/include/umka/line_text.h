// One line of text in a fixed buffer, for module code (no libc in a module): log lines,
// refusal reasons, command output. What does not fit is cut; `truncated()` says so.
// C++ only; header-only, so every module shares this one copy through the SDK.
#pragma once

#include <stdint.h>

namespace umka {

template <uint64_t Capacity>
class LineText {
public:
    LineText& add(const char* text) {
        while (*text != '\0') put(*text++);
        return *this;
    }
    LineText& add(const char* text, uint64_t length) {
        for (uint64_t index = 0; index < length; ++index) put(text[index]);
        return *this;
    }
    LineText& number(uint64_t value) {
        char digits[20];
        uint32_t count = 0;
        do {
            digits[count++] = char('0' + value % 10);
            value /= 10;
        } while (value != 0);
        while (count != 0) put(digits[--count]);
        return *this;
    }
    LineText& signed_number(int64_t value) {
        if (value >= 0) return number(uint64_t(value));
        put('-');
        return number(0 - uint64_t(value));  // well defined for INT64_MIN too
    }
    // "0x" and the digits, without leading zeros.
    LineText& hex(uint64_t value) {
        add("0x");
        int shift = 60;
        while (shift > 0 && ((value >> shift) & 0xF) == 0) shift -= 4;
        for (; shift >= 0; shift -= 4) put("0123456789abcdef"[(value >> shift) & 0xF]);
        return *this;
    }
    // Exactly `digits` lowercase hex digits (at most 16), zero-padded, no "0x" (%0Nx).
    LineText& hex_digits(uint64_t value, uint32_t digits) {
        if (digits > 16) digits = 16;
        for (uint32_t digit = digits; digit != 0; --digit) {
            put("0123456789abcdef"[(value >> (4 * (digit - 1))) & 0xF]);
        }
        return *this;
    }
    template <uint64_t OtherCapacity>
    LineText& append(const LineText<OtherCapacity>& other) {
        return add(other.data(), other.length());
    }
    const char* data() const { return text_; }
    uint64_t length() const { return length_; }
    bool truncated() const { return truncated_; }

private:
    void put(char character) {
        if (length_ < Capacity) {
            text_[length_++] = character;
        } else {
            truncated_ = true;
        }
    }

    char text_[Capacity];
    uint64_t length_ = 0;
    bool truncated_ = false;
};

}  // namespace umka
