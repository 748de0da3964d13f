// The compression function shared by SHA-256 and SHA-512 (FIPS 180-4 §6.2.2 and §6.4.2):
// the same rounds on 32- or 64-bit words, with each hash's word size, round count and
// rotation counts given as a `Functions` instance (sha256.cpp, sha512.cpp). Internal to
// nucleus/crypto; pure and freestanding.
#pragma once

#include <stdint.h>

namespace umka::crypto::sha2 {

template <typename Word>
constexpr Word rotate_right(Word value, unsigned count) {
    return Word(value >> count) | Word(value << (8 * sizeof(Word) - count));
}

// FIPS 180-4 §4.1.2 / §4.1.3: Σ0, Σ1 rotate by three counts each; σ0, σ1 rotate by two and
// shift by one.
template <typename WordType, int Rounds, unsigned... Count>
struct Functions;

template <typename WordType, int Rounds, unsigned A0, unsigned A1, unsigned A2, unsigned E0,
          unsigned E1, unsigned E2, unsigned S0, unsigned S1, unsigned S2, unsigned T0, unsigned T1,
          unsigned T2>
struct Functions<WordType, Rounds, A0, A1, A2, E0, E1, E2, S0, S1, S2, T0, T1, T2> {
    using Word = WordType;
    static constexpr int kRounds = Rounds;
    static constexpr Word big_sigma0(Word x) {
        return rotate_right(x, A0) ^ rotate_right(x, A1) ^ rotate_right(x, A2);
    }
    static constexpr Word big_sigma1(Word x) {
        return rotate_right(x, E0) ^ rotate_right(x, E1) ^ rotate_right(x, E2);
    }
    static constexpr Word small_sigma0(Word x) {
        return rotate_right(x, S0) ^ rotate_right(x, S1) ^ Word(x >> S2);
    }
    static constexpr Word small_sigma1(Word x) {
        return rotate_right(x, T0) ^ rotate_right(x, T1) ^ Word(x >> T2);
    }
};

// One unaligned load and, on little-endian machines, one byte swap (the byte-by-byte form
// is not recognised as such inside the unrolled schedule load, and costs about a tenth of
// the compression).
template <typename Word>
[[gnu::always_inline]] inline Word load_big_endian(const uint8_t* bytes) {
    Word value;
    __builtin_memcpy(&value, bytes, sizeof value);
    if constexpr (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {
        if constexpr (sizeof(Word) == 8) {
            value = __builtin_bswap64(value);
        } else {
            value = __builtin_bswap32(value);
        }
    }
    return value;
}

// One round on the working variables kept in `v` and renamed instead of moved: round r
// reads a at v[(-r) & 7], b at v[(1 - r) & 7], and so on, so each round writes only the new
// d (d + T1) and the new a (T1 + T2, into h's slot). Unrolled with constant indices, `v`
// stays in registers.
template <typename Functions, int Round>
[[gnu::always_inline]] inline void round(typename Functions::Word (&v)[8],
                                         typename Functions::Word word,
                                         typename Functions::Word constant) {
    using Word = typename Functions::Word;
    Word& a = v[(8 - Round % 8) % 8];
    Word& b = v[(9 - Round % 8) % 8];
    Word& c = v[(10 - Round % 8) % 8];
    Word& d = v[(11 - Round % 8) % 8];
    Word& e = v[(12 - Round % 8) % 8];
    Word& f = v[(13 - Round % 8) % 8];
    Word& g = v[(14 - Round % 8) % 8];
    Word& h = v[(15 - Round % 8) % 8];
    Word choose = g ^ (e & (f ^ g));
    Word temporary1 = h + Functions::big_sigma1(e) + choose + constant + word;
    Word majority = (a & b) | (c & (a | b));
    d += temporary1;
    h = temporary1 + Functions::big_sigma0(a) + majority;
}

// The schedule as a 16-word ring (W[t] in schedule[t % 16]), expanded as the rounds consume
// it: W[t] overwrites W[t - 16], the only word it replaces that is no longer needed. (A
// separate expansion loop over the whole schedule gets vectorised two words at a time on
// the host, and each pair then waits on a store it only half overlaps.)
template <typename Functions, int Index>
[[gnu::always_inline]] inline typename Functions::Word expand(
    typename Functions::Word (&schedule)[16]) {
    return schedule[Index] += Functions::small_sigma0(schedule[(Index + 1) % 16]) +
                              Functions::small_sigma1(schedule[(Index + 14) % 16]) +
                              schedule[(Index + 9) % 16];
}

// Sixteen rounds; `expanding` says whether the schedule words are computed (after the first
// sixteen rounds) or already loaded. One copy of the sixteen rounds serves every block of
// them: the branch is perfectly predicted, and the code stays half the size (the guest's
// first verification fetches and, under TCG, translates all of it).
template <typename Functions, int... Index>
[[gnu::always_inline]] inline void sixteen_rounds(typename Functions::Word (&v)[8],
                                                  typename Functions::Word (&schedule)[16],
                                                  const typename Functions::Word* constants,
                                                  bool expanding) {
    (round<Functions, Index>(v, expanding ? expand<Functions, Index>(schedule) : schedule[Index],
                             constants[Index]),
     ...);
}

// state = compress(state, block) for one block of 16 words.
template <typename Functions>
void compress(typename Functions::Word (&state)[8], const uint8_t* block,
              const typename Functions::Word* constants) {
    using Word = typename Functions::Word;
    Word schedule[16];
    for (int index = 0; index < 16; ++index) {
        schedule[index] = load_big_endian<Word>(block + sizeof(Word) * index);
    }
    Word v[8];
    for (int index = 0; index < 8; ++index) v[index] = state[index];
    for (int first = 0; first < Functions::kRounds; first += 16) {
        sixteen_rounds<Functions, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15>(
            v, schedule, constants + first, first > 0);
    }
    for (int index = 0; index < 8; ++index) state[index] += v[index];
}

}  // namespace umka::crypto::sha2
