// Cross-check of the nucleus Ed25519 verifier against libsodium (the build-time signer):
// every libsodium signature verifies; no single-bit change of message, signature or key
// verifies, in either implementation; malleated scalars, small-order keys and R values are
// refused by both; and on keys with a small-order component, where the cofactorless
// equation holds for some messages only, both give the same verdict message by message.
#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <vector>

#include "nucleus/crypto/ed25519.h"
#include "nucleus/crypto/scalar25519.h"
#include "test/host/crypto/hex.h"

namespace umka::crypto {
namespace {

using Bytes = std::vector<uint8_t>;

struct SignedSample {
    Bytes public_key = Bytes(crypto_sign_PUBLICKEYBYTES);
    Bytes message;
    Bytes signature = Bytes(crypto_sign_BYTES);
};

SignedSample make_sample(size_t length) {
    SignedSample sample;
    Bytes secret(crypto_sign_SECRETKEYBYTES);
    crypto_sign_keypair(sample.public_key.data(), secret.data());
    sample.message.resize(length);
    if (length > 0) randombytes_buf(sample.message.data(), length);  // declared nonnull
    crypto_sign_detached(sample.signature.data(), nullptr, sample.message.data(), length,
                         secret.data());
    return sample;
}

bool nucleus_accepts(const SignedSample& sample) {
    return ed25519_verify(sample.public_key.data(), sample.message.data(), sample.message.size(),
                          sample.signature.data())
        .is_ok();
}

bool libsodium_accepts(const SignedSample& sample) {
    return crypto_sign_verify_detached(sample.signature.data(), sample.message.data(),
                                       sample.message.size(), sample.public_key.data()) == 0;
}

class Ed25519AgainstLibsodium : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_GE(sodium_init(), 0); }
};

TEST_F(Ed25519AgainstLibsodium, TwoHundredRandomKeysAndMessagesVerify) {
    for (int round = 0; round < 200; ++round) {
        // Lengths around SHA-512's block and padding boundaries, then larger ones.
        size_t length = round < 130 ? size_t(round) : size_t(randombytes_uniform(8192));
        SignedSample sample = make_sample(length);
        ASSERT_TRUE(libsodium_accepts(sample));
        Ed25519Verdict verdict = ed25519_check(sample.public_key.data(), sample.message.data(),
                                               length, sample.signature.data());
        ASSERT_EQ(verdict, Ed25519Verdict::Valid)
            << "round " << round << ", length " << length << ": " << ed25519_verdict_text(verdict);
    }
}

// Every bit of a 48-byte message, the 64-byte signature and the 32-byte key, on a few
// samples. A flipped key bit may give a malformed key (InvalidArgument) or another valid
// key (BadMessage); either way it must not verify, and libsodium must agree.
TEST_F(Ed25519AgainstLibsodium, EverySingleBitFlipFails) {
    for (int round = 0; round < 3; ++round) {
        const SignedSample original = make_sample(48);
        ASSERT_TRUE(nucleus_accepts(original));
        auto expect_rejected = [&](const SignedSample& flipped, const char* part, size_t bit) {
            EXPECT_FALSE(nucleus_accepts(flipped)) << part << " bit " << bit << " accepted";
            EXPECT_FALSE(libsodium_accepts(flipped))
                << part << " bit " << bit << ": libsodium accepts, the nucleus does not";
        };
        for (size_t bit = 0; bit < original.message.size() * 8; ++bit) {
            SignedSample flipped = original;
            flipped.message[bit / 8] ^= uint8_t(1u << (bit % 8));
            expect_rejected(flipped, "message", bit);
        }
        for (size_t bit = 0; bit < original.signature.size() * 8; ++bit) {
            SignedSample flipped = original;
            flipped.signature[bit / 8] ^= uint8_t(1u << (bit % 8));
            expect_rejected(flipped, "signature", bit);
        }
        for (size_t bit = 0; bit < original.public_key.size() * 8; ++bit) {
            SignedSample flipped = original;
            flipped.public_key[bit / 8] ^= uint8_t(1u << (bit % 8));
            expect_rejected(flipped, "public key", bit);
        }
    }
}

TEST_F(Ed25519AgainstLibsodium, SignatureOfAnotherKeyFails) {
    SignedSample first = make_sample(100);
    SignedSample second = make_sample(100);
    second.message = first.message;
    second.signature = first.signature;  // first's signature, second's key
    EXPECT_EQ(ed25519_verify(second.public_key.data(), second.message.data(), second.message.size(),
                             second.signature.data()),
              Status(Errno::BadMessage));
}

// Random 96-byte strings as (key, signature): both implementations refuse all of them,
// and the nucleus never reports a valid signature.
TEST_F(Ed25519AgainstLibsodium, RandomGarbageNeverVerifies) {
    for (int round = 0; round < 300; ++round) {
        SignedSample garbage;
        randombytes_buf(garbage.public_key.data(), garbage.public_key.size());
        randombytes_buf(garbage.signature.data(), garbage.signature.size());
        garbage.message = {1, 2, 3};
        EXPECT_FALSE(nucleus_accepts(garbage));
        EXPECT_FALSE(libsodium_accepts(garbage));
    }
}

// S + L and S + 2L satisfy the same group equation (scalars act mod L); S with the top bits
// set is not below L either. Both verifiers refuse all of them, the nucleus as a
// non-canonical scalar.
TEST_F(Ed25519AgainstLibsodium, MalleatedScalarsFailInBoth) {
    for (int round = 0; round < 20; ++round) {
        SignedSample sample = make_sample(size_t(round) * 7);
        for (int multiple = 1; multiple <= 2; ++multiple) {
            SignedSample malleated = sample;
            unsigned carry = 0;
            for (int index = 0; index < 32; ++index) {
                unsigned value =
                    malleated.signature[32 + index] + multiple * kGroupOrder[index] + carry;
                malleated.signature[32 + index] = uint8_t(value);
                carry = value >> 8;
            }
            ASSERT_EQ(carry, 0u);  // S + 2L < 2^254 < 2^256
            EXPECT_EQ(ed25519_check(malleated.public_key.data(), malleated.message.data(),
                                    malleated.message.size(), malleated.signature.data()),
                      Ed25519Verdict::ScalarNonCanonical);
            EXPECT_FALSE(libsodium_accepts(malleated)) << "S + " << multiple << " L";
        }
        SignedSample top_bits = sample;
        top_bits.signature[63] |= 0xe0;
        EXPECT_FALSE(nucleus_accepts(top_bits));
        EXPECT_FALSE(libsodium_accepts(top_bits));
    }
}

// The eight points of order dividing 8, and non-canonical encodings of some, as the key or
// as R of an otherwise valid signature: both verifiers refuse each.
TEST_F(Ed25519AgainstLibsodium, SmallOrderKeysAndRFailInBoth) {
    const char* const small_order[] = {
        "0100000000000000000000000000000000000000000000000000000000000000",  // identity
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // order 2
        "0000000000000000000000000000000000000000000000000000000000000000",  // order 4
        "0000000000000000000000000000000000000000000000000000000000000080",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  // order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = 1 + p
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  // y = p, x < 0
    };
    SignedSample sample = make_sample(64);
    for (const char* encoding : small_order) {
        Bytes point = test::from_hex(encoding);
        SignedSample with_key = sample;
        with_key.public_key = point;
        EXPECT_FALSE(nucleus_accepts(with_key)) << "key " << encoding;
        EXPECT_FALSE(libsodium_accepts(with_key)) << "key " << encoding;
        SignedSample with_r = sample;
        std::copy(point.begin(), point.end(), with_r.signature.begin());
        EXPECT_FALSE(nucleus_accepts(with_r)) << "R " << encoding;
        EXPECT_FALSE(libsodium_accepts(with_r)) << "R " << encoding;
    }
}

// A key A' = A + T with T of order 8 is neither small order nor in the prime-order
// subgroup, so both verifiers accept it as a key. A signature made with A's secret scalar
// over A' verifies under the cofactorless equation exactly when [k] T is the identity,
// i.e. for about one message in eight: the verdicts must agree message by message.
TEST_F(Ed25519AgainstLibsodium, MixedOrderKeyVerdictsAgree) {
    using Array = std::array<uint8_t, 32>;
    Array secret, point_a, torsion, key;
    crypto_core_ed25519_scalar_random(secret.data());
    ASSERT_EQ(crypto_scalarmult_ed25519_base_noclamp(point_a.data(), secret.data()), 0);
    Bytes order_eight =
        test::from_hex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a");
    std::copy(order_eight.begin(), order_eight.end(), torsion.begin());
    ASSERT_EQ(crypto_core_ed25519_add(key.data(), point_a.data(), torsion.data()), 0);

    int accepted = 0;
    const int kMessages = 256;
    for (int round = 0; round < kMessages; ++round) {
        SignedSample sample;
        sample.public_key.assign(key.begin(), key.end());
        sample.message = Bytes(16 + size_t(round));
        randombytes_buf(sample.message.data(), sample.message.size());
        // Ed25519 signing by hand: R = [r] B, k = SHA-512(R || A' || M) mod L, S = r + k a.
        Array nonce, encoded_r, challenge, product, scalar_s;
        crypto_core_ed25519_scalar_random(nonce.data());
        ASSERT_EQ(crypto_scalarmult_ed25519_base_noclamp(encoded_r.data(), nonce.data()), 0);
        uint8_t digest[crypto_hash_sha512_BYTES];
        crypto_hash_sha512_state state;
        crypto_hash_sha512_init(&state);
        crypto_hash_sha512_update(&state, encoded_r.data(), 32);
        crypto_hash_sha512_update(&state, key.data(), 32);
        crypto_hash_sha512_update(&state, sample.message.data(), sample.message.size());
        crypto_hash_sha512_final(&state, digest);
        crypto_core_ed25519_scalar_reduce(challenge.data(), digest);
        crypto_core_ed25519_scalar_mul(product.data(), challenge.data(), secret.data());
        crypto_core_ed25519_scalar_add(scalar_s.data(), nonce.data(), product.data());
        std::copy(encoded_r.begin(), encoded_r.end(), sample.signature.begin());
        std::copy(scalar_s.begin(), scalar_s.end(), sample.signature.begin() + 32);

        bool libsodium = libsodium_accepts(sample);
        ASSERT_EQ(nucleus_accepts(sample), libsodium) << "message " << round;
        accepted += libsodium ? 1 : 0;
    }
    // One in eight expected; both outcomes must occur for the comparison to mean anything.
    EXPECT_GT(accepted, 0);
    EXPECT_LT(accepted, kMessages);
}

}  // namespace
}  // namespace umka::crypto
