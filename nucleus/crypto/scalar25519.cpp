#include "nucleus/crypto/scalar25519.h"

namespace umka::crypto {

bool scalar_is_canonical(const uint8_t scalar[32]) {
    // Compare from the most significant byte down; equal to L is not canonical either.
    for (int index = 31; index >= 0; --index) {
        if (scalar[index] < kGroupOrder[index]) return true;
        if (scalar[index] > kGroupOrder[index]) return false;
    }
    return false;
}

// The byte-wise reduction of TweetNaCl (modL), on signed 64-bit digits so intermediate
// borrows need no special casing. It uses 2^252 = -c (mod L) with c = L - 2^252 (16 bytes):
//  1. For each byte position i from 63 down to 32, digit[i] * 2^(8i) equals
//     digit[i] * 16 * 2^252 * 2^(8(i-32)), which is congruent to -16 digit[i] c 2^(8(i-32));
//     subtract that product from the lower digits (carries rounded to the nearest so the
//     digits stay small) and clear digit[i]. Afterwards the value fits in 32 digits.
//  2. Remove the bits at and above 2^252 (digit[31] >> 4) the same way, normalising the
//     digits to bytes; what is left is the byte string plus a final carry (-1 when the
//     value went negative), and subtracting carry * L brings the result into [0, L).
// Digits here are arithmetic-shifted; C++20 defines >> on negative values as floor.
void scalar_reduce_wide(uint8_t reduced[32], const uint8_t wide[64]) {
    int64_t digit[64];
    for (int index = 0; index < 64; ++index) digit[index] = wide[index];

    for (int top = 63; top >= 32; --top) {
        int64_t carry = 0;
        int position = top - 32;
        // c occupies bytes 0..15 of L; columns up to top - 12 absorb the product and its
        // carries (the same bounds as TweetNaCl).
        for (; position < top - 12; ++position) {
            digit[position] += carry - 16 * digit[top] * kGroupOrder[position - (top - 32)];
            carry = (digit[position] + 128) >> 8;
            digit[position] -= carry * 256;
        }
        digit[position] += carry;
        digit[top] = 0;
    }

    int64_t carry = 0;
    for (int position = 0; position < 32; ++position) {
        digit[position] += carry - (digit[31] >> 4) * kGroupOrder[position];
        carry = digit[position] >> 8;
        digit[position] &= 255;
    }
    for (int position = 0; position < 32; ++position)
        digit[position] -= carry * kGroupOrder[position];
    for (int position = 0; position < 32; ++position) {
        digit[position + 1] += digit[position] >> 8;
        reduced[position] = uint8_t(digit[position] & 255);
    }
}

}  // namespace umka::crypto
