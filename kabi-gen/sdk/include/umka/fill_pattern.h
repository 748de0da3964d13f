// The documented deterministic data pattern of the console's `fill` commands (`blk fill`,
// and later the VFS's): a xorshift64 stream (Marsaglia, shifts 13/7/17) seeded with
// seed XOR 0x9E3779B97F4A7C15 (1 when that is 0, since xorshift never leaves 0). Each
// 8-byte word is the next state, stored little-endian; the stream starts fresh at the
// first byte of the fill. Anyone can recompute it to check what a disk holds.
// Header-only and freestanding (no libc), shared through the SDK.
#pragma once

#include <stdint.h>

namespace umka {

class FillPattern {
public:
    static constexpr uint64_t kSeedMix = 0x9E3779B97F4A7C15ull;

    explicit constexpr FillPattern(uint64_t seed) : state_(seed ^ kSeedMix) {
        if (state_ == 0) state_ = 1;
    }

    // The next 8-byte word of the stream.
    constexpr uint64_t next_word() {
        state_ ^= state_ << 13;
        state_ ^= state_ >> 7;
        state_ ^= state_ << 17;
        return state_;
    }

    // Writes the next `words` words to `bytes` (8 * words bytes), little-endian whatever
    // the CPU's byte order.
    void fill(uint8_t* bytes, uint64_t words) {
        for (uint64_t word = 0; word < words; ++word) {
            uint64_t value = next_word();
            for (uint32_t byte = 0; byte < 8; ++byte)
                bytes[word * 8 + byte] = uint8_t(value >> (8 * byte));
        }
    }

private:
    uint64_t state_;
};

}  // namespace umka
