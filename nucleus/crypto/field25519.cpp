#include "nucleus/crypto/field25519.h"

namespace umka::crypto {
namespace {

using Wide = unsigned __int128;  // GCC inlines 64x64->128 multiplication; no libgcc call

// Moves each limb's bits above 51 into the next limb; the carry out of the top limb is
// worth 2^255 = 19 (mod p) and goes back into limb 0. The value mod p is unchanged.
// Inlined: it sits on every field operation's path.
[[gnu::always_inline]] inline void carry_propagate(uint64_t limb[5]) {
    for (int index = 0; index < 4; ++index) {
        limb[index + 1] += limb[index] >> 51;
        limb[index] &= kLimbMask;
    }
    uint64_t top_carry = limb[4] >> 51;
    limb[4] &= kLimbMask;
    limb[0] += 19 * top_carry;
}

// Carries five 128-bit column sums down to loosely reduced 51-bit limbs. Column sums stay
// below 2^112 for loosely reduced inputs, so the top carry times 19 fits in 64 bits.
// Inlined so the 128-bit columns stay in registers instead of a stack array.
[[gnu::always_inline]] inline FieldElement reduce_columns(Wide column[5]) {
    FieldElement result;
    for (int index = 0; index < 4; ++index) {
        column[index + 1] += uint64_t(column[index] >> 51);
        result.limb[index] = uint64_t(column[index]) & kLimbMask;
    }
    uint64_t top_carry = uint64_t(column[4] >> 51);
    result.limb[4] = uint64_t(column[4]) & kLimbMask;
    result.limb[0] += 19 * top_carry;
    result.limb[1] += result.limb[0] >> 51;
    result.limb[0] &= kLimbMask;
    return result;
}

FieldElement square_repeatedly(FieldElement element, int count) {
    for (int round = 0; round < count; ++round) element = field_square(element);
    return element;
}

// The shared prefix of the two exponentiation chains (the addition chain of the ref10
// Ed25519 code): returns element^(2^250 - 1) and, through `power_eleven`, element^11.
FieldElement power_2_250_minus_1(const FieldElement& element, FieldElement& power_eleven) {
    FieldElement power2 = field_square(element);                                  // 2
    FieldElement power9 = field_multiply(square_repeatedly(power2, 2), element);  // 8 + 1
    power_eleven = field_multiply(power9, power2);                                // 11
    FieldElement power_2_5 = field_multiply(field_square(power_eleven), power9);  // 2^5 - 1
    FieldElement power_2_10 = field_multiply(square_repeatedly(power_2_5, 5), power_2_5);
    FieldElement power_2_20 = field_multiply(square_repeatedly(power_2_10, 10), power_2_10);
    FieldElement power_2_40 = field_multiply(square_repeatedly(power_2_20, 20), power_2_20);
    FieldElement power_2_50 = field_multiply(square_repeatedly(power_2_40, 10), power_2_10);
    FieldElement power_2_100 = field_multiply(square_repeatedly(power_2_50, 50), power_2_50);
    FieldElement power_2_200 = field_multiply(square_repeatedly(power_2_100, 100), power_2_100);
    return field_multiply(square_repeatedly(power_2_200, 50), power_2_50);  // 2^250 - 1
}

}  // namespace

void field_to_bytes(uint8_t bytes[32], const FieldElement& element) {
    uint64_t limb[5] = {element.limb[0], element.limb[1], element.limb[2], element.limb[3],
                        element.limb[4]};
    carry_propagate(limb);
    // Now 0 <= value < 2^255 + 2^20 < 2p, so subtracting p at most once gives the canonical
    // value. quotient = floor((value + 19) / 2^255) is 1 exactly when value >= p; the carry
    // chain computes that floor without materialising value + 19.
    uint64_t quotient = (limb[0] + 19) >> 51;
    for (int index = 1; index < 5; ++index) quotient = (limb[index] + quotient) >> 51;
    // value - quotient * p = value + 19 * quotient - quotient * 2^255: add, carry, and
    // drop bit 255.
    limb[0] += 19 * quotient;
    for (int index = 0; index < 4; ++index) {
        limb[index + 1] += limb[index] >> 51;
        limb[index] &= kLimbMask;
    }
    limb[4] &= kLimbMask;

    uint64_t word[4] = {
        limb[0] | (limb[1] << 51),
        (limb[1] >> 13) | (limb[2] << 38),
        (limb[2] >> 26) | (limb[3] << 25),
        (limb[3] >> 39) | (limb[4] << 12),
    };
    for (int index = 0; index < 32; ++index) {
        bytes[index] = uint8_t(word[index / 8] >> (8 * (index % 8)));
    }
}

FieldElement field_add(const FieldElement& left, const FieldElement& right) {
    FieldElement result;
    for (int index = 0; index < 5; ++index) {
        result.limb[index] = left.limb[index] + right.limb[index];
    }
    carry_propagate(result.limb);
    return result;
}

FieldElement field_subtract(const FieldElement& left, const FieldElement& right) {
    // Adding 2p limb by limb keeps every limb non-negative: loosely reduced limbs are below
    // 2^51 + 2^15, and 2p's limbs are 2^52 - 38 and 2^52 - 2.
    constexpr uint64_t kTwoPLow = 0xfffffffffffda;
    constexpr uint64_t kTwoPHigh = 0xffffffffffffe;
    FieldElement result;
    result.limb[0] = left.limb[0] + kTwoPLow - right.limb[0];
    for (int index = 1; index < 5; ++index) {
        result.limb[index] = left.limb[index] + kTwoPHigh - right.limb[index];
    }
    carry_propagate(result.limb);
    return result;
}

FieldElement field_negate(const FieldElement& element) {
    return field_subtract(kFieldZero, element);
}

// Schoolbook 5x5 limb product. A term limb_i * limb_j with i + j >= 5 is worth
// 2^(255 + 51 (i + j - 5)), and 2^255 = 19 (mod p), so it folds into column i + j - 5
// multiplied by 19.
FieldElement field_multiply(const FieldElement& left, const FieldElement& right) {
    const uint64_t* f = left.limb;
    const uint64_t* g = right.limb;
    uint64_t g1_19 = 19 * g[1], g2_19 = 19 * g[2], g3_19 = 19 * g[3], g4_19 = 19 * g[4];
    Wide column[5];
    column[0] = Wide(f[0]) * g[0] + Wide(f[1]) * g4_19 + Wide(f[2]) * g3_19 + Wide(f[3]) * g2_19 +
                Wide(f[4]) * g1_19;
    column[1] = Wide(f[0]) * g[1] + Wide(f[1]) * g[0] + Wide(f[2]) * g4_19 + Wide(f[3]) * g3_19 +
                Wide(f[4]) * g2_19;
    column[2] = Wide(f[0]) * g[2] + Wide(f[1]) * g[1] + Wide(f[2]) * g[0] + Wide(f[3]) * g4_19 +
                Wide(f[4]) * g3_19;
    column[3] = Wide(f[0]) * g[3] + Wide(f[1]) * g[2] + Wide(f[2]) * g[1] + Wide(f[3]) * g[0] +
                Wide(f[4]) * g4_19;
    column[4] = Wide(f[0]) * g[4] + Wide(f[1]) * g[3] + Wide(f[2]) * g[2] + Wide(f[3]) * g[1] +
                Wide(f[4]) * g[0];
    return reduce_columns(column);
}

// The same product with the symmetric terms merged (limb_i * limb_j twice for i != j):
// squaring dominates the exponentiations and point doublings.
FieldElement field_square(const FieldElement& element) {
    const uint64_t* f = element.limb;
    uint64_t f0_2 = 2 * f[0], f1_2 = 2 * f[1], f2_2 = 2 * f[2], f3_2 = 2 * f[3];
    uint64_t f3_19 = 19 * f[3], f4_19 = 19 * f[4];
    Wide column[5];
    column[0] = Wide(f[0]) * f[0] + Wide(f1_2) * f4_19 + Wide(f2_2) * f3_19;
    column[1] = Wide(f0_2) * f[1] + Wide(f2_2) * f4_19 + Wide(f[3]) * f3_19;
    column[2] = Wide(f0_2) * f[2] + Wide(f[1]) * f[1] + Wide(f3_2) * f4_19;
    column[3] = Wide(f0_2) * f[3] + Wide(f1_2) * f[2] + Wide(f[4]) * f4_19;
    column[4] = Wide(f0_2) * f[4] + Wide(f1_2) * f[3] + Wide(f[2]) * f[2];
    return reduce_columns(column);
}

FieldElement field_invert(const FieldElement& element) {
    FieldElement power_eleven;
    FieldElement power = power_2_250_minus_1(element, power_eleven);
    // (2^250 - 1) * 2^5 + 11 = 2^255 - 21 = p - 2
    return field_multiply(square_repeatedly(power, 5), power_eleven);
}

FieldElement field_power_p_minus_5_over_8(const FieldElement& element) {
    FieldElement power_eleven;
    FieldElement power = power_2_250_minus_1(element, power_eleven);
    // (2^250 - 1) * 2^2 + 1 = 2^252 - 3 = (p - 5) / 8
    return field_multiply(square_repeatedly(power, 2), element);
}

bool field_is_zero(const FieldElement& element) {
    uint8_t bytes[32];
    field_to_bytes(bytes, element);
    uint8_t any = 0;
    for (uint8_t byte : bytes) any |= byte;
    return any == 0;
}

bool field_equal(const FieldElement& left, const FieldElement& right) {
    return field_is_zero(field_subtract(left, right));
}

bool field_is_negative(const FieldElement& element) {
    uint8_t bytes[32];
    field_to_bytes(bytes, element);
    return (bytes[0] & 1) != 0;
}

}  // namespace umka::crypto
