#include "nucleus/crypto/sha256.h"

#include "nucleus/crypto/sha2_rounds.h"

namespace umka::crypto {
namespace {

// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the
// first 64 primes.
constexpr uint32_t kRoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// FIPS 180-4 §5.3.3: the first 32 bits of the fractional parts of the square roots of the
// first 8 primes.
constexpr uint32_t kInitialState[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

void store_big_endian(uint8_t* bytes, uint64_t value, int width) {
    for (int index = width - 1; index >= 0; --index) {
        bytes[index] = uint8_t(value);
        value >>= 8;
    }
}

// FIPS 180-4 §4.1.2: Σ0 and Σ1 rotation counts, then σ0 and σ1 rotations and shift.
using Sha256Functions = sha2::Functions<uint32_t, 64, 2, 13, 22, 6, 11, 25, 7, 18, 3, 17, 19, 10>;

}  // namespace

Sha256::Sha256() {
    for (int index = 0; index < 8; ++index) state_[index] = kInitialState[index];
}

// FIPS 180-4 §6.2.2 (sha2_rounds.h).
void Sha256::compress(const uint8_t block[kSha256BlockSize]) {
    sha2::compress<Sha256Functions>(state_, block, kRoundConstants);
}

void Sha256::update(const uint8_t* data, size_t length) {
    total_bytes_ += length;
    while (length > 0) {
        if (buffered_ == 0 && length >= kSha256BlockSize) {
            compress(data);
            data += kSha256BlockSize;
            length -= kSha256BlockSize;
            continue;
        }
        size_t take = kSha256BlockSize - buffered_;
        if (take > length) take = length;
        for (size_t index = 0; index < take; ++index) buffer_[buffered_ + index] = data[index];
        buffered_ += take;
        data += take;
        length -= take;
        if (buffered_ == kSha256BlockSize) {
            compress(buffer_);
            buffered_ = 0;
        }
    }
}

void Sha256::finish(uint8_t digest[kSha256DigestSize]) {
    uint64_t bit_count = total_bytes_ * 8;
    buffer_[buffered_++] = 0x80;
    if (buffered_ > kSha256BlockSize - 8) {
        while (buffered_ < kSha256BlockSize) buffer_[buffered_++] = 0;
        compress(buffer_);
        buffered_ = 0;
    }
    while (buffered_ < kSha256BlockSize - 8) buffer_[buffered_++] = 0;
    store_big_endian(buffer_ + kSha256BlockSize - 8, bit_count, 8);
    compress(buffer_);
    buffered_ = 0;
    for (int index = 0; index < 8; ++index) store_big_endian(digest + 4 * index, state_[index], 4);
}

void Sha256::hash(const uint8_t* data, size_t length, uint8_t digest[kSha256DigestSize]) {
    Sha256 hasher;
    hasher.update(data, length);
    hasher.finish(digest);
}

}  // namespace umka::crypto
