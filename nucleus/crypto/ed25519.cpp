#include "nucleus/crypto/ed25519.h"

#include "nucleus/crypto/edwards25519.h"
#include "nucleus/crypto/scalar25519.h"
#include "nucleus/crypto/sha512.h"

namespace umka::crypto {

const char* ed25519_verdict_text(Ed25519Verdict verdict) {
    switch (verdict) {
    case Ed25519Verdict::Valid:
        return "signature is valid";
    case Ed25519Verdict::PublicKeyNonCanonical:
        return "public key is not a canonical point encoding";
    case Ed25519Verdict::PublicKeyNotOnCurve:
        return "public key is not a point on edwards25519";
    case Ed25519Verdict::PublicKeySmallOrder:
        return "public key is a point of small order (weak key)";
    case Ed25519Verdict::ScalarNonCanonical:
        return "signature scalar S is not below the group order L (non-canonical)";
    case Ed25519Verdict::Mismatch:
        return "signature does not match the message and public key";
    }
    return "unknown Ed25519 verdict";
}

Ed25519Verdict ed25519_check(const uint8_t public_key[kEd25519PublicKeySize],
                             const uint8_t* message, size_t length,
                             const uint8_t signature[kEd25519SignatureSize]) {
    // Step 1: decode A; R is never decoded (see the header), S must be below L.
    EdwardsPoint key_point;
    switch (edwards_decode(key_point, public_key)) {
    case PointDecoding::Ok:
        break;
    case PointDecoding::NonCanonical:
    case PointDecoding::NegativeZero:
        return Ed25519Verdict::PublicKeyNonCanonical;
    case PointDecoding::NotOnCurve:
        return Ed25519Verdict::PublicKeyNotOnCurve;
    }
    if (edwards_has_small_order(key_point)) return Ed25519Verdict::PublicKeySmallOrder;
    const uint8_t* encoded_r = signature;
    const uint8_t* scalar_s = signature + 32;
    if (!scalar_is_canonical(scalar_s)) return Ed25519Verdict::ScalarNonCanonical;

    // Step 2: k = SHA-512(R || A || M) mod L.
    uint8_t digest[kSha512DigestSize];
    Sha512 hasher;
    hasher.update(encoded_r, 32);
    hasher.update(public_key, kEd25519PublicKeySize);
    hasher.update(message, length);
    hasher.finish(digest);
    uint8_t challenge[32];
    scalar_reduce_wide(challenge, digest);

    // Step 3: R' = [S]B - [k]A must encode to exactly R.
    ProjectivePoint recomputed =
        edwards_double_scalar_multiply(scalar_s, edwards_negate(key_point), challenge);
    uint8_t encoded_recomputed[32];
    edwards_encode(encoded_recomputed, recomputed);
    uint8_t difference = 0;
    for (int index = 0; index < 32; ++index)
        difference |= encoded_recomputed[index] ^ encoded_r[index];
    return difference == 0 ? Ed25519Verdict::Valid : Ed25519Verdict::Mismatch;
}

Status ed25519_verify(const uint8_t public_key[kEd25519PublicKeySize], const uint8_t* message,
                      size_t length, const uint8_t signature[kEd25519SignatureSize]) {
    switch (ed25519_check(public_key, message, length, signature)) {
    case Ed25519Verdict::Valid:
        return Status::ok();
    case Ed25519Verdict::PublicKeyNonCanonical:
    case Ed25519Verdict::PublicKeyNotOnCurve:
    case Ed25519Verdict::PublicKeySmallOrder:
        return Errno::InvalidArgument;
    case Ed25519Verdict::ScalarNonCanonical:
    case Ed25519Verdict::Mismatch:
        return Errno::BadMessage;
    }
    return Errno::BadMessage;
}

}  // namespace umka::crypto
