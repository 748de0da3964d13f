// The one parser of unsigned numbers in text for the nucleus, modules and host tools:
// decimal, or hexadecimal after "0x", checked against a caller's limit with no overflow
// on the way. Every count a user can type has a limit; a value past it is refused with
// TooLarge, never wrapped. Header-only and freestanding (no libc).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace umka {

enum class NumberBase : uint8_t { Decimal, Hexadecimal, DecimalOrPrefixedHex };

enum class NumberError : uint8_t {
    None,
    Empty,       // no digits at all
    NotANumber,  // a character that is not a digit of the base
    TooLarge,    // past the caller's limit (or past 2^64 - 1)
};

inline const char* number_error_text(NumberError error) {
    switch (error) {
    case NumberError::None:
        return "ok";
    case NumberError::Empty:
        return "no digits";
    case NumberError::NotANumber:
        return "not a number";
    case NumberError::TooLarge:
        return "too large";
    }
    return "?";
}

struct ParsedNumber {
    uint64_t value;
    NumberError error;
    bool ok() const { return error == NumberError::None; }
};

namespace number_text_detail {
constexpr uint32_t digit_value(char character) {
    if (character >= '0' && character <= '9') return uint32_t(character - '0');
    if (character >= 'a' && character <= 'f') return uint32_t(character - 'a' + 10);
    if (character >= 'A' && character <= 'F') return uint32_t(character - 'A' + 10);
    return 99;
}
}  // namespace number_text_detail

// Parses all of text[0, length): a number in `base` no greater than `limit`.
constexpr ParsedNumber parse_unsigned(const char* text, size_t length, uint64_t limit,
                                      NumberBase base = NumberBase::DecimalOrPrefixedHex) {
    uint32_t radix = base == NumberBase::Hexadecimal ? 16 : 10;
    if (base == NumberBase::DecimalOrPrefixedHex && length > 2 && text[0] == '0' &&
        (text[1] == 'x' || text[1] == 'X')) {
        radix = 16;
        text += 2;
        length -= 2;
    }
    if (length == 0) return {0, NumberError::Empty};
    uint64_t value = 0;
    for (size_t index = 0; index < length; ++index) {
        uint32_t digit = number_text_detail::digit_value(text[index]);
        if (digit >= radix) return {0, NumberError::NotANumber};
        // value * radix + digit <= limit, asked without computing past 2^64.
        if (value > (limit - digit) / radix || digit > limit) return {0, NumberError::TooLarge};
        value = value * radix + digit;
    }
    return {value, NumberError::None};
}

// Parses a NUL-terminated word (the whole string).
constexpr ParsedNumber parse_unsigned(const char* text, uint64_t limit,
                                      NumberBase base = NumberBase::DecimalOrPrefixedHex) {
    size_t length = 0;
    while (text[length] != '\0') ++length;
    return parse_unsigned(text, length, limit, base);
}

}  // namespace umka
