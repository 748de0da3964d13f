#include "nucleus/crypto/field25519.h"

namespace umka::crypto {
namespace {

// The exponentiations' inner loop, with the squaring inlined.
FieldElement square_repeatedly(FieldElement element, int count) {
    for (int round = 0; round < count; ++round) element = field_square_inline(element);
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
    FieldElement carried = field_detail::carry_propagate(
        element.limb[0], element.limb[1], element.limb[2], element.limb[3], element.limb[4]);
    uint64_t limb[5] = {carried.limb[0], carried.limb[1], carried.limb[2], carried.limb[3],
                        carried.limb[4]};
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
