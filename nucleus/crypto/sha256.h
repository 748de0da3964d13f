// SHA-256 (FIPS 180-4 §6.2): the hash of the evolution log's chain (one entry's hash covers
// the previous one, like a measured-boot PCR). Pure and freestanding, so the nucleus and
// the host tests run the same code.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace umka::crypto {

inline constexpr size_t kSha256DigestSize = 32;
inline constexpr size_t kSha256BlockSize = 64;

// Incremental hashing: construct, update() any number of times, then finish() once.
class Sha256 {
public:
    Sha256();

    void update(const uint8_t* data, size_t length);

    // Pads and writes the 32-byte digest; the object is finished afterwards (further
    // update() or finish() calls are caller bugs).
    void finish(uint8_t digest[kSha256DigestSize]);

    // One-shot convenience: digest = SHA-256(data[0 .. length)).
    static void hash(const uint8_t* data, size_t length, uint8_t digest[kSha256DigestSize]);

private:
    void compress(const uint8_t block[kSha256BlockSize]);

    uint32_t state_[8];
    uint64_t total_bytes_ = 0;  // the bit count (FIPS 180-4 §5.1.1) is derived in finish()
    uint8_t buffer_[kSha256BlockSize];
    size_t buffered_ = 0;
};

}  // namespace umka::crypto
