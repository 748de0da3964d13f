// Ed25519 signature verification (RFC 8032 §5.1.7), the nucleus's own verifier for module
// signatures. Verification only: signing happens at build time with libsodium
// (initramfs/tools/umka-sign). Pure and freestanding; host tests cross-check it against
// libsodium and the RFC 8032 test vectors.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"

namespace umka::crypto {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

// The outcome of a verification, finer than Status so callers can say why.
enum class Ed25519Verdict {
    Valid,
    PublicKeyNonCanonical,  // y >= p, or x = 0 encoded with the sign bit
    PublicKeyNotOnCurve,    // the 32 bytes are not a curve point
    PublicKeySmallOrder,    // a point of order dividing 8: any signature could "verify"
    ScalarNonCanonical,     // S >= L (RFC 8032 §5.1.7 step 1): a malleated signature
    Mismatch,               // well-formed, but not a signature of this message by this key
};

const char* ed25519_verdict_text(Ed25519Verdict verdict);

// Checks [S]B = R + [SHA-512(R || A || M) mod L] A by recomputing R and comparing its
// encoding with the signature's first 32 bytes (the cofactorless equation, as libsodium).
// A non-canonical R therefore never matches.
Ed25519Verdict ed25519_check(const uint8_t public_key[kEd25519PublicKeySize],
                             const uint8_t* message, size_t length,
                             const uint8_t signature[kEd25519SignatureSize]);

// Ok for a valid signature; InvalidArgument when the public key is malformed (not a point,
// non-canonical, or of small order); BadMessage when the signature is malformed (S >= L)
// or does not verify.
Status ed25519_verify(const uint8_t public_key[kEd25519PublicKeySize], const uint8_t* message,
                      size_t length, const uint8_t signature[kEd25519SignatureSize]);

}  // namespace umka::crypto
