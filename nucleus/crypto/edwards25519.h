// Points of edwards25519, the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 over
// GF(2^255 - 19) (RFC 8032 §5.1). Internal to the Ed25519 verifier; variable time (public
// data only).
//
// Four representations, as in the ref10 code of the Ed25519 paper, so each step of a scalar
// multiplication computes only the coordinates the next step reads:
//   EdwardsPoint    extended (X : Y : Z : T), x = X/Z, y = Y/Z, X*Y = Z*T
//   ProjectivePoint (X : Y : Z), what a doubling needs
//   CompletedPoint  ((X : Z), (Y : T)), x = X/Z, y = Y/T: the output of doubling and
//                   addition, converted with 3 multiplications (to projective) or 4
//                   (to extended)
//   CachedPoint     (Y + X, Y - X, Z, 2 d T): the second operand of an addition, prepared
//                   once per table entry
// The formulas are constexpr, so the table of base-point multiples is computed with them at
// compile time. Each exists once in the code and calls the out-of-line field products:
// inlining the products would make verification about a tenth faster on the host but
// double this code, which the guest's first verification has to fetch and, under TCG,
// translate (measured: about 0.17 ms per KiB, more than the later verifications save).
#pragma once

#include <stdint.h>

#include "nucleus/crypto/field25519.h"

namespace umka::crypto {

struct EdwardsPoint {
    FieldElement x, y, z, t;
};

struct ProjectivePoint {
    FieldElement x, y, z;
};

struct CompletedPoint {
    FieldElement x, y, z, t;
};

struct CachedPoint {
    FieldElement y_plus_x, y_minus_x, z, t_2d;
};

// Constants of RFC 8032 §5.1, as big-endian hex (each one is checked by the RFC 8032 test
// vectors in test/host/crypto/ed25519_test.cpp).
// d = -121665/121666 mod p
inline constexpr FieldElement kCurveD =
    field_from_hex("52036cee2b6ffe738cc740797779e89800700a4d4141d8ab75eb4dca135978a3");
// 2d, used by the addition formula
inline constexpr FieldElement kCurveTwoD =
    field_from_hex("2406d9dc56dffce7198e80f2eef3d13000e0149a8283b156ebd69b9426b2f159");

// The base point B = (x, 4/5) with x positive; t = x * y.
inline constexpr EdwardsPoint kBasePoint = {
    field_from_hex("216936d3cd6e53fec0a4e231fdd6dc5c692cc7609525a7b2c9562d608f25d51a"),
    field_from_hex("6666666666666666666666666666666666666666666666666666666666666658"),
    kFieldOne,
    field_from_hex("67875f0fd78b766566ea4e8e64abe37d20f09f80775152f56dde8ab3a5b7dda3"),
};

constexpr ProjectivePoint edwards_to_projective(const EdwardsPoint& point) {
    return ProjectivePoint{point.x, point.y, point.z};
}

[[gnu::noinline]] constexpr ProjectivePoint edwards_to_projective(const CompletedPoint& point) {
    return ProjectivePoint{field_multiply(point.x, point.t), field_multiply(point.y, point.z),
                           field_multiply(point.z, point.t)};
}

[[gnu::noinline]] constexpr EdwardsPoint edwards_to_extended(const CompletedPoint& point) {
    return EdwardsPoint{field_multiply(point.x, point.t), field_multiply(point.y, point.z),
                        field_multiply(point.z, point.t), field_multiply(point.x, point.y)};
}

[[gnu::noinline]] constexpr CachedPoint edwards_to_cached(const EdwardsPoint& point) {
    return CachedPoint{field_add(point.y, point.x), field_subtract(point.y, point.x), point.z,
                       field_multiply(point.t, kCurveTwoD)};
}

// "dbl-2008-hwcd" for a = -1: 4 squarings. Also correct for the identity.
[[gnu::noinline]] constexpr CompletedPoint edwards_double(const ProjectivePoint& point) {
    FieldElement xx = field_square(point.x);
    FieldElement yy = field_square(point.y);
    FieldElement zz = field_square(point.z);
    FieldElement sum_squared = field_square(field_add(point.x, point.y));
    FieldElement yy_plus_xx = field_add(yy, xx);
    FieldElement yy_minus_xx = field_subtract(yy, xx);
    return CompletedPoint{field_subtract(sum_squared, yy_plus_xx), yy_plus_xx, yy_minus_xx,
                          field_subtract(field_add(zz, zz), yy_minus_xx)};
}

// RFC 8032 §5.1.4's addition ("add-2008-hwcd-3"), complete: also correct for doubling and
// the identity. `sign` picks point + other or point - other (-other swaps Y+X with Y-X and
// negates 2dT); a run-time choice, so the code holds one copy.
enum class AddSign { Plus, Minus };

[[gnu::noinline]] constexpr CompletedPoint edwards_add(const EdwardsPoint& point,
                                                       const CachedPoint& other, AddSign sign) {
    bool plus = sign == AddSign::Plus;
    FieldElement a =
        field_multiply(field_add(point.y, point.x), plus ? other.y_plus_x : other.y_minus_x);
    FieldElement b =
        field_multiply(field_subtract(point.y, point.x), plus ? other.y_minus_x : other.y_plus_x);
    FieldElement c = field_multiply(point.t, other.t_2d);
    FieldElement zz = field_multiply(point.z, other.z);
    FieldElement d = field_add(zz, zz);
    FieldElement d_plus_c = field_add(d, c);
    FieldElement d_minus_c = field_subtract(d, c);
    return CompletedPoint{field_subtract(a, b), field_add(a, b), plus ? d_plus_c : d_minus_c,
                          plus ? d_minus_c : d_plus_c};
}

// Why a 32-byte string is not a point (RFC 8032 §5.1.3 decoding failures).
enum class PointDecoding {
    Ok,
    NonCanonical,  // the y coordinate is >= p
    NotOnCurve,    // no x satisfies the curve equation for this y
    NegativeZero,  // x = 0 with the sign bit set: a second encoding of the same point
};

const char* point_decoding_text(PointDecoding result);

// RFC 8032 §5.1.3. On anything but Ok, `point` is left unspecified.
PointDecoding edwards_decode(EdwardsPoint& point, const uint8_t encoding[32]);

// RFC 8032 §5.1.2: y with the sign (low bit) of x in bit 255. Always canonical.
void edwards_encode(uint8_t encoding[32], const ProjectivePoint& point);

EdwardsPoint edwards_negate(const EdwardsPoint& point);

// True for the 8 points whose order divides the cofactor 8 (identity included). Such a
// point as a public key makes signatures meaningless, so the verifier refuses it.
bool edwards_has_small_order(const EdwardsPoint& point);

// [base_scalar] B + [point_scalar] P for 32-byte little-endian scalars below 2^253 (reduced
// mod L), by Straus-Shamir over width-w non-adjacent forms: one shared chain of doublings,
// about one addition per 9 bits of base_scalar (odd multiples of B up to 127 B, a table
// computed at compile time) and one per 6 bits of point_scalar (odd multiples of P up to
// 15 P, computed per call).
ProjectivePoint edwards_double_scalar_multiply(const uint8_t base_scalar[32],
                                               const EdwardsPoint& point,
                                               const uint8_t point_scalar[32]);

}  // namespace umka::crypto
