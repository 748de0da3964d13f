// SHA-512 (FIPS 180-4 §6.4): the hash inside Ed25519 signature verification. Pure and
// freestanding, so the nucleus and the host tests run the same code.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace umka::crypto {

inline constexpr size_t kSha512DigestSize = 64;
inline constexpr size_t kSha512BlockSize = 128;

// Incremental hashing: construct, update() any number of times, then finish() once.
// The object is about 220 bytes, all of it on the caller's stack (no heap in the nucleus).
class Sha512 {
public:
    Sha512();

    void update(const uint8_t* data, size_t length);

    // Pads, writes the 64-byte digest and leaves the object finished: further update()
    // or finish() calls are caller bugs (the digest would be of a padded message).
    void finish(uint8_t digest[kSha512DigestSize]);

    // One-shot convenience: digest = SHA-512(data[0 .. length)).
    static void hash(const uint8_t* data, size_t length, uint8_t digest[kSha512DigestSize]);

private:
    void compress(const uint8_t block[kSha512BlockSize]);

    uint64_t state_[8];
    // Total bytes hashed so far. FIPS 180-4 counts bits in 128 bits; 2^64 bytes is more
    // than any module, and the high half of the bit count is derived from this in finish().
    uint64_t total_bytes_ = 0;
    uint8_t buffer_[kSha512BlockSize];
    size_t buffered_ = 0;
};

}  // namespace umka::crypto
