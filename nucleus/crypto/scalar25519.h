// Scalars modulo L = 2^252 + 27742317777372353535851937790883648493, the order of the
// edwards25519 base point (RFC 8032 §5.1). Internal to the Ed25519 verifier.
#pragma once

#include <stdint.h>

namespace umka::crypto {

// L as 32 little-endian bytes.
inline constexpr uint8_t kGroupOrder[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

// True when the 32-byte little-endian scalar is below L. RFC 8032 §5.1.7 requires
// rejecting signatures whose S is not, which rules out the malleable forms S + k L.
bool scalar_is_canonical(const uint8_t scalar[32]);

// reduced = wide mod L, for a 64-byte little-endian value (a SHA-512 digest).
void scalar_reduce_wide(uint8_t reduced[32], const uint8_t wide[64]);

}  // namespace umka::crypto
