// Points of edwards25519, the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 over
// GF(2^255 - 19) (RFC 8032 §5.1), in extended coordinates: x = X/Z, y = Y/Z, X*Y = Z*T.
// Internal to the Ed25519 verifier; variable time (public data only).
#pragma once

#include <stdint.h>

#include "nucleus/crypto/field25519.h"

namespace umka::crypto {

struct EdwardsPoint {
    FieldElement x, y, z, t;
};

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
void edwards_encode(uint8_t encoding[32], const EdwardsPoint& point);

EdwardsPoint edwards_identity();
const EdwardsPoint& edwards_base_point();

EdwardsPoint edwards_add(const EdwardsPoint& left, const EdwardsPoint& right);
EdwardsPoint edwards_double(const EdwardsPoint& point);
EdwardsPoint edwards_negate(const EdwardsPoint& point);

// True for the 8 points whose order divides the cofactor 8 (identity included). Such a
// point as a public key makes signatures meaningless, so the verifier refuses it.
bool edwards_has_small_order(const EdwardsPoint& point);

// [base_scalar] B + [point_scalar] P for 32-byte little-endian scalars below 2^253 (reduced
// mod L), by Straus-Shamir over signed window digits: one shared chain of doublings and about
// one addition per five bits of each scalar.
EdwardsPoint edwards_double_scalar_multiply(const uint8_t base_scalar[32],
                                            const EdwardsPoint& point,
                                            const uint8_t point_scalar[32]);

}  // namespace umka::crypto
