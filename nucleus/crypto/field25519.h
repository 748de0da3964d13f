// Arithmetic in GF(p), p = 2^255 - 19: the coordinate field of edwards25519 (RFC 8032 §5.1).
// Internal to the Ed25519 verifier; pure and freestanding.
//
// An element is five 51-bit limbs, value = sum(limb[i] * 2^(51 i)). Every function returns
// limbs below 2^51 + 2^15 ("loosely reduced"), which is what field_multiply's 128-bit
// accumulators and field_subtract's 2p offset need; only field_to_bytes produces the unique
// (canonical) representative. Nothing here is constant time: the verifier handles only
// public data (keys, signatures, module bytes).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace umka::crypto {

struct FieldElement {
    uint64_t limb[5];
};

inline constexpr uint64_t kLimbMask = (uint64_t(1) << 51) - 1;

// The 255 low bits of a 32-byte little-endian string; bit 255 is ignored (Ed25519 uses it
// for the sign of x). Values in [p, 2^255) are accepted and reduced later: callers that
// need canonical input compare field_to_bytes() with what they decoded.
constexpr FieldElement field_from_bytes(const uint8_t bytes[32]) {
    uint64_t word[4] = {};
    for (int index = 0; index < 32; ++index) {
        word[index / 8] |= uint64_t(bytes[index]) << (8 * (index % 8));
    }
    return FieldElement{{
        word[0] & kLimbMask,
        ((word[0] >> 51) | (word[1] << 13)) & kLimbMask,
        ((word[1] >> 38) | (word[2] << 26)) & kLimbMask,
        ((word[2] >> 25) | (word[3] << 39)) & kLimbMask,
        (word[3] >> 12) & kLimbMask,
    }};
}

// A constant written as 64 big-endian hex digits, the way RFC 8032 and most references
// print field elements, so each constant can be checked against them by eye.
consteval FieldElement field_from_hex(const char (&hex)[65]) {
    uint8_t bytes[32] = {};
    for (int index = 0; index < 64; ++index) {
        char digit = hex[index];
        uint8_t value = digit >= 'a' ? uint8_t(digit - 'a' + 10) : uint8_t(digit - '0');
        int byte = 31 - index / 2;  // little-endian bytes from big-endian text
        bytes[byte] = uint8_t(bytes[byte] | (index % 2 == 0 ? value << 4 : value));
    }
    return field_from_bytes(bytes);
}

inline constexpr FieldElement kFieldZero = {{0, 0, 0, 0, 0}};
inline constexpr FieldElement kFieldOne = {{1, 0, 0, 0, 0}};

// The canonical 32-byte little-endian encoding (value in [0, p), bit 255 clear).
void field_to_bytes(uint8_t bytes[32], const FieldElement& element);

FieldElement field_add(const FieldElement& left, const FieldElement& right);
FieldElement field_subtract(const FieldElement& left, const FieldElement& right);
FieldElement field_negate(const FieldElement& element);
FieldElement field_multiply(const FieldElement& left, const FieldElement& right);
FieldElement field_square(const FieldElement& element);

// element^(p-2) = 1/element (Fermat); 0 maps to 0.
FieldElement field_invert(const FieldElement& element);

// element^((p-5)/8) = element^(2^252 - 3), the exponent of the square-root computation in
// RFC 8032 §5.1.3 step 3.
FieldElement field_power_p_minus_5_over_8(const FieldElement& element);

bool field_is_zero(const FieldElement& element);
bool field_equal(const FieldElement& left, const FieldElement& right);
// RFC 8032's "negative": the least significant bit of the canonical value.
bool field_is_negative(const FieldElement& element);

}  // namespace umka::crypto
