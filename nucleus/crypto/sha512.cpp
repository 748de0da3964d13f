#include "nucleus/crypto/sha512.h"

#include "nucleus/crypto/sha2_rounds.h"

namespace umka::crypto {
namespace {

// FIPS 180-4 §4.2.3: the first 64 bits of the fractional parts of the cube roots of the
// first 80 primes.
constexpr uint64_t kRoundConstants[80] = {
    0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
    0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
    0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
    0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
    0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
    0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
    0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
    0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
    0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
    0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
    0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
    0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
    0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
    0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
    0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
    0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
    0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
    0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
};

// FIPS 180-4 §5.3.5: the first 64 bits of the fractional parts of the square roots of the
// first 8 primes.
constexpr uint64_t kInitialState[8] = {
    0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
    0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
};

void store_big_endian(uint8_t* bytes, uint64_t value) {
    for (int index = 7; index >= 0; --index) {
        bytes[index] = uint8_t(value);
        value >>= 8;
    }
}

// FIPS 180-4 §4.1.3: Σ0 and Σ1 rotation counts, then σ0 and σ1 rotations and shift.
using Sha512Functions = sha2::Functions<uint64_t, 80, 28, 34, 39, 14, 18, 41, 1, 8, 7, 19, 61, 6>;

}  // namespace

Sha512::Sha512() {
    for (int index = 0; index < 8; ++index) state_[index] = kInitialState[index];
}

// FIPS 180-4 §6.4.2 (sha2_rounds.h). The message schedule is a 16-word ring instead of 80
// words, which keeps the stack frame small for the kernel.
void Sha512::compress(const uint8_t block[kSha512BlockSize]) {
    sha2::compress<Sha512Functions>(state_, block, kRoundConstants);
}

void Sha512::update(const uint8_t* data, size_t length) {
    total_bytes_ += length;
    if (buffered_ > 0) {
        size_t take = kSha512BlockSize - buffered_;
        if (take > length) take = length;
        for (size_t index = 0; index < take; ++index) buffer_[buffered_ + index] = data[index];
        buffered_ += take;
        data += take;
        length -= take;
        if (buffered_ < kSha512BlockSize) return;
        compress(buffer_);
        buffered_ = 0;
    }
    // Whole blocks straight from the caller's bytes: no copy for the bulk of a module.
    while (length >= kSha512BlockSize) {
        compress(data);
        data += kSha512BlockSize;
        length -= kSha512BlockSize;
    }
    for (size_t index = 0; index < length; ++index) buffer_[index] = data[index];
    buffered_ = length;
}

// FIPS 180-4 §5.1.2: append 0x80, zeros, and the 128-bit big-endian bit length so the
// padded message is a whole number of 1024-bit blocks.
void Sha512::finish(uint8_t digest[kSha512DigestSize]) {
    uint64_t bit_length_high = total_bytes_ >> 61;
    uint64_t bit_length_low = total_bytes_ << 3;

    buffer_[buffered_++] = 0x80;
    if (buffered_ > kSha512BlockSize - 16) {
        while (buffered_ < kSha512BlockSize) buffer_[buffered_++] = 0;
        compress(buffer_);
        buffered_ = 0;
    }
    while (buffered_ < kSha512BlockSize - 16) buffer_[buffered_++] = 0;
    store_big_endian(buffer_ + kSha512BlockSize - 16, bit_length_high);
    store_big_endian(buffer_ + kSha512BlockSize - 8, bit_length_low);
    compress(buffer_);
    buffered_ = 0;

    for (int index = 0; index < 8; ++index) store_big_endian(digest + 8 * index, state_[index]);
}

void Sha512::hash(const uint8_t* data, size_t length, uint8_t digest[kSha512DigestSize]) {
    Sha512 hasher;
    hasher.update(data, length);
    hasher.finish(digest);
}

}  // namespace umka::crypto
