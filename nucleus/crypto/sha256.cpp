#include "nucleus/crypto/sha256.h"

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

constexpr uint32_t rotate_right(uint32_t value, unsigned count) {
    return (value >> count) | (value << (32 - count));
}

// Big-endian words assembled byte by byte: independent of host endianness and alignment.
uint32_t load_big_endian(const uint8_t* bytes) {
    return (uint32_t(bytes[0]) << 24) | (uint32_t(bytes[1]) << 16) | (uint32_t(bytes[2]) << 8) |
           uint32_t(bytes[3]);
}

void store_big_endian(uint8_t* bytes, uint64_t value, int width) {
    for (int index = width - 1; index >= 0; --index) {
        bytes[index] = uint8_t(value);
        value >>= 8;
    }
}

}  // namespace

Sha256::Sha256() {
    for (int index = 0; index < 8; ++index) state_[index] = kInitialState[index];
}

void Sha256::compress(const uint8_t block[kSha256BlockSize]) {
    uint32_t schedule[64];
    for (int index = 0; index < 16; ++index) schedule[index] = load_big_endian(block + 4 * index);
    for (int index = 16; index < 64; ++index) {
        uint32_t early = schedule[index - 15];
        uint32_t late = schedule[index - 2];
        uint32_t sigma0 = rotate_right(early, 7) ^ rotate_right(early, 18) ^ (early >> 3);
        uint32_t sigma1 = rotate_right(late, 17) ^ rotate_right(late, 19) ^ (late >> 10);
        schedule[index] = schedule[index - 16] + sigma0 + schedule[index - 7] + sigma1;
    }
    uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
    uint32_t e = state_[4], f = state_[5], g = state_[6], h = state_[7];
    for (int index = 0; index < 64; ++index) {
        uint32_t sum1 = rotate_right(e, 6) ^ rotate_right(e, 11) ^ rotate_right(e, 25);
        uint32_t choose = (e & f) ^ (~e & g);
        uint32_t first = h + sum1 + choose + kRoundConstants[index] + schedule[index];
        uint32_t sum0 = rotate_right(a, 2) ^ rotate_right(a, 13) ^ rotate_right(a, 22);
        uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
        uint32_t second = sum0 + majority;
        h = g;
        g = f;
        f = e;
        e = d + first;
        d = c;
        c = b;
        b = a;
        a = first + second;
    }
    state_[0] += a;
    state_[1] += b;
    state_[2] += c;
    state_[3] += d;
    state_[4] += e;
    state_[5] += f;
    state_[6] += g;
    state_[7] += h;
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
