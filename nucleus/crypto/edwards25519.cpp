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

bool scalar_bit(const uint8_t scalar[32], int bit) {
    return ((scalar[bit / 8] >> (bit % 8)) & 1) != 0;
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
    // table[bit of base_scalar + 2 * bit of point_scalar]; entry 0 (identity) is skipped.
    const EdwardsPoint table[4] = {
        edwards_identity(),
        kBasePoint,
        point,
        edwards_add(kBasePoint, point),
    };
    EdwardsPoint result = edwards_identity();
    for (int bit = 255; bit >= 0; --bit) {
        result = edwards_double(result);
        int index = int(scalar_bit(base_scalar, bit)) + 2 * int(scalar_bit(point_scalar, bit));
        if (index != 0) result = edwards_add(result, table[index]);
    }
    return result;
}

}  // namespace umka::crypto
