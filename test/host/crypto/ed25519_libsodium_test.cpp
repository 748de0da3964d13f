// Cross-check of the nucleus Ed25519 verifier against libsodium (the build-time signer):
// every libsodium signature verifies, and no single-bit change of message, signature or
// key verifies, in either implementation.
#include <gtest/gtest.h>
#include <sodium.h>

#include <vector>

#include "nucleus/crypto/ed25519.h"

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

}  // namespace
}  // namespace umka::crypto
