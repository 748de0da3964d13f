// Hex helpers for the crypto tests: vectors are written as the references print them.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace umka::crypto::test {

inline std::vector<uint8_t> from_hex(const std::string& text) {
    if (text.size() % 2 != 0) throw std::invalid_argument("odd-length hex: " + text);
    auto nibble = [&](char digit) -> uint8_t {
        if (digit >= '0' && digit <= '9') return uint8_t(digit - '0');
        if (digit >= 'a' && digit <= 'f') return uint8_t(digit - 'a' + 10);
        if (digit >= 'A' && digit <= 'F') return uint8_t(digit - 'A' + 10);
        throw std::invalid_argument(std::string("not a hex digit: ") + digit);
    };
    std::vector<uint8_t> bytes;
    for (size_t index = 0; index < text.size(); index += 2) {
        bytes.push_back(uint8_t(nibble(text[index]) << 4 | nibble(text[index + 1])));
    }
    return bytes;
}

inline std::string to_hex(const uint8_t* bytes, size_t length) {
    static const char digits[] = "0123456789abcdef";
    std::string text;
    for (size_t index = 0; index < length; ++index) {
        text += digits[bytes[index] >> 4];
        text += digits[bytes[index] & 15];
    }
    return text;
}

inline std::string to_hex(const std::vector<uint8_t>& bytes) {
    return to_hex(bytes.data(), bytes.size());
}

}  // namespace umka::crypto::test
