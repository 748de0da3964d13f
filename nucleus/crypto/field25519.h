// Arithmetic in GF(p), p = 2^255 - 19: the coordinate field of edwards25519 (RFC 8032 §5.1).
// Internal to the Ed25519 verifier; pure and freestanding.
//
// An element is five 51-bit limbs, value = sum(limb[i] * 2^(51 i)). Reduction is lazy:
// field_multiply, field_square and field_subtract return limbs below 2^51 + 2^15
// ("loosely reduced"); field_add does not carry at all, so its limbs are just the sums.
// Every function accepts limbs below 2^54 - 152 (kFieldInputLimit), which any sum of up to
// four loosely reduced elements satisfies: that bound keeps field_multiply's 128-bit columns
// and field_subtract's 8p offset exact. Only field_to_bytes produces the unique (canonical)
// representative. Nothing here is constant time: the verifier handles only public data.
//
// The arithmetic is constexpr, so edwards25519's table of base-point multiples is computed
// with it at compile time. Additions and subtractions inline; products are calls (see
// field_multiply).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace umka::crypto {

struct FieldElement {
    uint64_t limb[5];
};

inline constexpr uint64_t kLimbMask = (uint64_t(1) << 51) - 1;
// Exclusive bound on the input limbs of every operation (see the file comment).
inline constexpr uint64_t kFieldInputLimit = (uint64_t(1) << 54) - 152;

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

namespace field_detail {

using Wide = unsigned __int128;  // GCC and Clang inline 64x64->128 products; no libgcc call

// Moves each limb's bits above 51 into the next limb; the carry out of the top limb is
// worth 2^255 = 19 (mod p) and goes back into limb 0. The value mod p is unchanged. Written
// on five scalars, not a loop over an array, so the limbs stay in registers.
[[gnu::always_inline]] constexpr FieldElement carry_propagate(uint64_t limb0, uint64_t limb1,
                                                              uint64_t limb2, uint64_t limb3,
                                                              uint64_t limb4) {
    limb1 += limb0 >> 51;
    limb2 += limb1 >> 51;
    limb3 += limb2 >> 51;
    limb4 += limb3 >> 51;
    return FieldElement{{(limb0 & kLimbMask) + 19 * (limb4 >> 51), limb1 & kLimbMask,
                         limb2 & kLimbMask, limb3 & kLimbMask, limb4 & kLimbMask}};
}

// Carries five 128-bit column sums down to loosely reduced limbs. For inputs below
// kFieldInputLimit the columns stay below 2^114.3 (so each carry fits in 64 bits) and the
// top column below 2^110.4 (so its carry times 19 does too).
[[gnu::always_inline]] constexpr FieldElement reduce_columns(Wide c0, Wide c1, Wide c2, Wide c3,
                                                             Wide c4) {
    c1 += uint64_t(c0 >> 51);
    c2 += uint64_t(c1 >> 51);
    c3 += uint64_t(c2 >> 51);
    c4 += uint64_t(c3 >> 51);
    uint64_t limb0 = (uint64_t(c0) & kLimbMask) + 19 * uint64_t(c4 >> 51);
    return FieldElement{{limb0 & kLimbMask, (uint64_t(c1) & kLimbMask) + (limb0 >> 51),
                         uint64_t(c2) & kLimbMask, uint64_t(c3) & kLimbMask,
                         uint64_t(c4) & kLimbMask}};
}

}  // namespace field_detail

// No carry: the result's limbs are the sums (see the file comment for how far that goes).
[[gnu::always_inline]] constexpr FieldElement field_add(const FieldElement& left,
                                                        const FieldElement& right) {
    return FieldElement{{left.limb[0] + right.limb[0], left.limb[1] + right.limb[1],
                         left.limb[2] + right.limb[2], left.limb[3] + right.limb[3],
                         left.limb[4] + right.limb[4]}};
}

[[gnu::always_inline]] constexpr FieldElement field_subtract(const FieldElement& left,
                                                             const FieldElement& right) {
    // Adding 8p limb by limb keeps every limb non-negative for right-hand limbs below
    // kFieldInputLimit: 8p's limbs are 2^54 - 152 and 2^54 - 8.
    constexpr uint64_t kEightPLow = (uint64_t(1) << 54) - 152;
    constexpr uint64_t kEightPHigh = (uint64_t(1) << 54) - 8;
    return field_detail::carry_propagate(
        left.limb[0] + kEightPLow - right.limb[0], left.limb[1] + kEightPHigh - right.limb[1],
        left.limb[2] + kEightPHigh - right.limb[2], left.limb[3] + kEightPHigh - right.limb[3],
        left.limb[4] + kEightPHigh - right.limb[4]);
}

constexpr FieldElement field_negate(const FieldElement& element) {
    return field_subtract(kFieldZero, element);
}

// Schoolbook 5x5 limb product. A term limb_i * limb_j with i + j >= 5 is worth
// 2^(255 + 51 (i + j - 5)), and 2^255 = 19 (mod p), so it folds into column i + j - 5
// multiplied by 19. The _inline forms are the bodies of the out-of-line field_multiply and
// field_square, and inline only into the exponentiations' repeated squaring.
[[gnu::always_inline]] constexpr FieldElement field_multiply_inline(const FieldElement& left,
                                                                    const FieldElement& right) {
    using field_detail::Wide;
    const uint64_t f0 = left.limb[0], f1 = left.limb[1], f2 = left.limb[2], f3 = left.limb[3],
                   f4 = left.limb[4];
    const uint64_t g0 = right.limb[0], g1 = right.limb[1], g2 = right.limb[2], g3 = right.limb[3],
                   g4 = right.limb[4];
    const uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
    Wide c0 =
        Wide(f0) * g0 + Wide(f1) * g4_19 + Wide(f2) * g3_19 + Wide(f3) * g2_19 + Wide(f4) * g1_19;
    Wide c1 =
        Wide(f0) * g1 + Wide(f1) * g0 + Wide(f2) * g4_19 + Wide(f3) * g3_19 + Wide(f4) * g2_19;
    Wide c2 = Wide(f0) * g2 + Wide(f1) * g1 + Wide(f2) * g0 + Wide(f3) * g4_19 + Wide(f4) * g3_19;
    Wide c3 = Wide(f0) * g3 + Wide(f1) * g2 + Wide(f2) * g1 + Wide(f3) * g0 + Wide(f4) * g4_19;
    Wide c4 = Wide(f0) * g4 + Wide(f1) * g3 + Wide(f2) * g2 + Wide(f3) * g1 + Wide(f4) * g0;
    return field_detail::reduce_columns(c0, c1, c2, c3, c4);
}

// The same product with the symmetric terms merged (limb_i * limb_j twice for i != j):
// squaring dominates the exponentiations and point doublings.
[[gnu::always_inline]] constexpr FieldElement field_square_inline(const FieldElement& element) {
    using field_detail::Wide;
    const uint64_t f0 = element.limb[0], f1 = element.limb[1], f2 = element.limb[2],
                   f3 = element.limb[3], f4 = element.limb[4];
    const uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1, f2_2 = 2 * f2, f3_2 = 2 * f3;
    const uint64_t f3_19 = 19 * f3, f4_19 = 19 * f4;
    Wide c0 = Wide(f0) * f0 + Wide(f1_2) * f4_19 + Wide(f2_2) * f3_19;
    Wide c1 = Wide(f0_2) * f1 + Wide(f2_2) * f4_19 + Wide(f3) * f3_19;
    Wide c2 = Wide(f0_2) * f2 + Wide(f1) * f1 + Wide(f3_2) * f4_19;
    Wide c3 = Wide(f0_2) * f3 + Wide(f1_2) * f2 + Wide(f4) * f4_19;
    Wide c4 = Wide(f0_2) * f4 + Wide(f1_2) * f3 + Wide(f2) * f2;
    return field_detail::reduce_columns(c0, c1, c2, c3, c4);
}

// Out of line on purpose: the code stays small (the guest's first verification fetches and,
// under TCG, translates all of it), and a call costs about a fifth of a product.
[[gnu::noinline]] constexpr FieldElement field_multiply(const FieldElement& left,
                                                        const FieldElement& right) {
    return field_multiply_inline(left, right);
}

[[gnu::noinline]] constexpr FieldElement field_square(const FieldElement& element) {
    return field_square_inline(element);
}

// The canonical 32-byte little-endian encoding (value in [0, p), bit 255 clear).
void field_to_bytes(uint8_t bytes[32], const FieldElement& element);

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
