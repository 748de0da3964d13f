#include "nucleus/crypto/edwards25519.h"

namespace umka::crypto {
namespace {

// Constants of RFC 8032 §5.1, as big-endian hex (each one is checked by the RFC 8032 test
// vectors in test/host/crypto/ed25519_test.cpp).
// d = -121665/121666 mod p
constexpr FieldElement kCurveD =
    field_from_hex("52036cee2b6ffe738cc740797779e89800700a4d4141d8ab75eb4dca135978a3");
// 2d, used by the addition formula
constexpr FieldElement kCurveTwoD =
    field_from_hex("2406d9dc56dffce7198e80f2eef3d13000e0149a8283b156ebd69b9426b2f159");
// sqrt(-1) = 2^((p-1)/4) mod p
constexpr FieldElement kSquareRootMinusOne =
    field_from_hex("2b8324804fc1df0b2b4d00993dfbd7a72f431806ad2fe478c4ee1b274a0ea0b0");

// The base point B = (x, 4/5) with x positive; t = x * y.
constexpr EdwardsPoint kBasePoint = {
    field_from_hex("216936d3cd6e53fec0a4e231fdd6dc5c692cc7609525a7b2c9562d608f25d51a"),
    field_from_hex("6666666666666666666666666666666666666666666666666666666666666658"),
    kFieldOne,
    field_from_hex("67875f0fd78b766566ea4e8e64abe37d20f09f80775152f56dde8ab3a5b7dda3"),
};

// Largest digit of the signed window representation: digits are 0 or odd in
// [-kMaxDigit, kMaxDigit], so each point needs the odd multiples P, 3P, ..., kMaxDigit P.
// 7 keeps both tables (8 points, 1280 bytes) within the kernel's stack budget.
constexpr int kMaxDigit = 7;
constexpr int kOddMultiples = (kMaxDigit + 1) / 2;

// Rewrites a scalar below 2^253 as sum(digit[i] * 2^i) with every nonzero digit odd and
// at most kMaxDigit in magnitude, and nonzero digits mostly five or more bits apart (the
// "slide" of the ref10 Ed25519 code). Fewer nonzero digits means fewer point additions:
// about 256/5 instead of 256/2 for plain binary.
void signed_window_digits(int8_t digits[256], const uint8_t scalar[32]) {
    for (int bit = 0; bit < 256; ++bit) digits[bit] = int8_t((scalar[bit / 8] >> (bit % 8)) & 1);
    for (int bit = 0; bit < 256; ++bit) {
        if (digits[bit] == 0) continue;
        // Fold the following bits into this digit while it stays within bounds.
        for (int offset = 1; offset <= 6 && bit + offset < 256; ++offset) {
            if (digits[bit + offset] == 0) continue;
            int shifted = digits[bit + offset] * (1 << offset);
            if (digits[bit] + shifted <= kMaxDigit) {
                digits[bit] = int8_t(digits[bit] + shifted);
                digits[bit + offset] = 0;
            } else if (digits[bit] - shifted >= -kMaxDigit) {
                // digit - shifted here, + 2^(bit+offset) carried upwards: the value is
                // unchanged. The carry cannot run off the top for scalars below 2^255.
                digits[bit] = int8_t(digits[bit] - shifted);
                for (int carry = bit + offset; carry < 256; ++carry) {
                    if (digits[carry] == 0) {
                        digits[carry] = 1;
                        break;
                    }
                    digits[carry] = 0;
                }
            } else {
                break;
            }
        }
    }
}

// multiples[k] = (2k + 1) * point.
void odd_multiples(EdwardsPoint multiples[kOddMultiples], const EdwardsPoint& point) {
    EdwardsPoint twice = edwards_double(point);
    multiples[0] = point;
    for (int index = 1; index < kOddMultiples; ++index) {
        multiples[index] = edwards_add(multiples[index - 1], twice);
    }
}

void add_digit(EdwardsPoint& result, const EdwardsPoint multiples[kOddMultiples], int digit) {
    if (digit > 0) {
        result = edwards_add(result, multiples[digit / 2]);
    } else if (digit < 0) {
        result = edwards_add(result, edwards_negate(multiples[-digit / 2]));
    }
}

}  // namespace

const char* point_decoding_text(PointDecoding result) {
    switch (result) {
    case PointDecoding::Ok:
        return "valid point";
    case PointDecoding::NonCanonical:
        return "y coordinate is not below the field prime (non-canonical encoding)";
    case PointDecoding::NotOnCurve:
        return "no curve point has this y coordinate";
    case PointDecoding::NegativeZero:
        return "x is zero but the sign bit is set (non-canonical encoding)";
    }
    return "unknown point decoding result";
}

PointDecoding edwards_decode(EdwardsPoint& point, const uint8_t encoding[32]) {
    FieldElement y = field_from_bytes(encoding);
    bool x_negative = (encoding[31] & 0x80) != 0;

    // Step 1: y must be below p. Re-encoding gives the canonical bytes; any difference in
    // the 255 value bits means the input was y + p.
    uint8_t canonical[32];
    field_to_bytes(canonical, y);
    for (int index = 0; index < 32; ++index) {
        uint8_t given = index == 31 ? uint8_t(encoding[31] & 0x7f) : encoding[index];
        if (canonical[index] != given) return PointDecoding::NonCanonical;
    }

    // Step 2-3: x^2 = u / v with u = y^2 - 1, v = d y^2 + 1. The candidate root
    // x = u v^3 (u v^7)^((p-5)/8) avoids an inversion; it is right up to a factor sqrt(-1).
    FieldElement y_squared = field_square(y);
    FieldElement u = field_subtract(y_squared, kFieldOne);
    FieldElement v = field_add(field_multiply(kCurveD, y_squared), kFieldOne);
    FieldElement v_cubed = field_multiply(field_square(v), v);
    FieldElement v_seventh = field_multiply(field_square(v_cubed), v);
    FieldElement x = field_multiply(field_multiply(u, v_cubed),
                                    field_power_p_minus_5_over_8(field_multiply(u, v_seventh)));
    FieldElement v_x_squared = field_multiply(v, field_square(x));
    if (!field_equal(v_x_squared, u)) {
        if (!field_equal(v_x_squared, field_negate(u))) return PointDecoding::NotOnCurve;
        x = field_multiply(x, kSquareRootMinusOne);
    }

    // Step 4: pick the root with the requested sign.
    if (field_is_zero(x) && x_negative) return PointDecoding::NegativeZero;
    if (field_is_negative(x) != x_negative) x = field_negate(x);

    point.x = x;
    point.y = y;
    point.z = kFieldOne;
    point.t = field_multiply(x, y);
    return PointDecoding::Ok;
}

void edwards_encode(uint8_t encoding[32], const EdwardsPoint& point) {
    FieldElement z_inverse = field_invert(point.z);
    FieldElement x = field_multiply(point.x, z_inverse);
    FieldElement y = field_multiply(point.y, z_inverse);
    field_to_bytes(encoding, y);
    if (field_is_negative(x)) encoding[31] |= 0x80;
}

EdwardsPoint edwards_identity() {
    return EdwardsPoint{kFieldZero, kFieldOne, kFieldOne, kFieldZero};
}

const EdwardsPoint& edwards_base_point() {
    return kBasePoint;
}

// RFC 8032 §5.1.4, "add" for a = -1 (complete: also correct for doubling and identity).
EdwardsPoint edwards_add(const EdwardsPoint& left, const EdwardsPoint& right) {
    FieldElement a =
        field_multiply(field_subtract(left.y, left.x), field_subtract(right.y, right.x));
    FieldElement b = field_multiply(field_add(left.y, left.x), field_add(right.y, right.x));
    FieldElement c = field_multiply(field_multiply(left.t, kCurveTwoD), right.t);
    FieldElement d = field_multiply(field_add(left.z, left.z), right.z);
    FieldElement e = field_subtract(b, a);
    FieldElement f = field_subtract(d, c);
    FieldElement g = field_add(d, c);
    FieldElement h = field_add(b, a);
    return EdwardsPoint{field_multiply(e, f), field_multiply(g, h), field_multiply(f, g),
                        field_multiply(e, h)};
}

// RFC 8032 §5.1.4, "double": four squarings instead of the addition's multiplications.
EdwardsPoint edwards_double(const EdwardsPoint& point) {
    FieldElement a = field_square(point.x);
    FieldElement b = field_square(point.y);
    FieldElement z_squared = field_square(point.z);
    FieldElement c = field_add(z_squared, z_squared);
    FieldElement h = field_add(a, b);
    FieldElement e = field_subtract(h, field_square(field_add(point.x, point.y)));
    FieldElement g = field_subtract(a, b);
    FieldElement f = field_add(c, g);
    return EdwardsPoint{field_multiply(e, f), field_multiply(g, h), field_multiply(f, g),
                        field_multiply(e, h)};
}

EdwardsPoint edwards_negate(const EdwardsPoint& point) {
    return EdwardsPoint{field_negate(point.x), point.y, point.z, field_negate(point.t)};
}

bool edwards_has_small_order(const EdwardsPoint& point) {
    // [8]P is the identity exactly for the small-order points. The curve's points with
    // x = 0 are the identity (y = 1) and the point of order 2 (y = -1), and [8]P is never
    // the latter (there is no point of order 16), so testing x suffices.
    EdwardsPoint eight_times = edwards_double(edwards_double(edwards_double(point)));
    return field_is_zero(eight_times.x);
}

EdwardsPoint edwards_double_scalar_multiply(const uint8_t base_scalar[32],
                                            const EdwardsPoint& point,
                                            const uint8_t point_scalar[32]) {
    int8_t base_digits[256];
    int8_t point_digits[256];
    signed_window_digits(base_digits, base_scalar);
    signed_window_digits(point_digits, point_scalar);
    EdwardsPoint base_multiples[kOddMultiples];
    EdwardsPoint point_multiples[kOddMultiples];
    odd_multiples(base_multiples, kBasePoint);
    odd_multiples(point_multiples, point);

    int top = 255;
    while (top >= 0 && base_digits[top] == 0 && point_digits[top] == 0) --top;
    // Straus-Shamir: both scalars share one chain of doublings.
    EdwardsPoint result = edwards_identity();
    for (int bit = top; bit >= 0; --bit) {
        result = edwards_double(result);
        add_digit(result, base_multiples, base_digits[bit]);
        add_digit(result, point_multiples, point_digits[bit]);
    }
    return result;
}

}  // namespace umka::crypto
