// The nucleus Ed25519 verifier on the RFC 8032 §7.1 vectors and on malformed keys and
// signatures (non-canonical encodings, points off the curve, small-order keys, S >= L).
#include "nucleus/crypto/ed25519.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <string>
#include <vector>

#include "nucleus/crypto/scalar25519.h"
#include "test/host/crypto/hex.h"
#include "test/host/crypto/rfc8032_vectors.h"

namespace umka::crypto {
namespace {

using test::from_hex;
using test::kRfc8032Vectors;
using test::to_hex;
using Bytes = std::vector<uint8_t>;

Ed25519Verdict check(const Bytes& key, const Bytes& message, const Bytes& signature) {
    return ed25519_check(key.data(), message.data(), message.size(), signature.data());
}

class Ed25519Rfc8032 : public ::testing::TestWithParam<test::Rfc8032Vector> {
protected:
    void SetUp() override { ASSERT_GE(sodium_init(), 0); }
};

// Guards the transcription: libsodium must derive the same key and signature from the seed.
TEST_P(Ed25519Rfc8032, VectorAgreesWithLibsodium) {
    const auto& vector = GetParam();
    Bytes seed = from_hex(vector.secret_key);
    Bytes message = from_hex(vector.message);
    uint8_t public_key[crypto_sign_PUBLICKEYBYTES];
    uint8_t secret_key[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(public_key, secret_key, seed.data());
    EXPECT_EQ(to_hex(public_key, sizeof(public_key)), vector.public_key);
    uint8_t signature[crypto_sign_BYTES];
    crypto_sign_detached(signature, nullptr, message.data(), message.size(), secret_key);
    EXPECT_EQ(to_hex(signature, sizeof(signature)), vector.signature);
}

TEST_P(Ed25519Rfc8032, VerifiesTheRfcSignature) {
    const auto& vector = GetParam();
    Bytes key = from_hex(vector.public_key);
    Bytes message = from_hex(vector.message);
    Bytes signature = from_hex(vector.signature);
    EXPECT_EQ(check(key, message, signature), Ed25519Verdict::Valid);
    EXPECT_EQ(ed25519_verify(key.data(), message.data(), message.size(), signature.data()),
              Status::ok());
}

TEST_P(Ed25519Rfc8032, RejectsAnotherMessage) {
    const auto& vector = GetParam();
    Bytes key = from_hex(vector.public_key);
    Bytes message = from_hex(vector.message);
    Bytes signature = from_hex(vector.signature);
    message.push_back(0x00);
    EXPECT_EQ(check(key, message, signature), Ed25519Verdict::Mismatch);
    EXPECT_EQ(ed25519_verify(key.data(), message.data(), message.size(), signature.data()),
              Status(Errno::BadMessage));
}

TEST_P(Ed25519Rfc8032, RejectsTamperedRAndS) {
    const auto& vector = GetParam();
    Bytes key = from_hex(vector.public_key);
    Bytes message = from_hex(vector.message);
    for (size_t index : {size_t(0), size_t(31), size_t(32), size_t(40)}) {
        Bytes signature = from_hex(vector.signature);
        signature[index] ^= 0x01;
        EXPECT_EQ(check(key, message, signature), Ed25519Verdict::Mismatch) << "byte " << index;
    }
}

INSTANTIATE_TEST_SUITE_P(AllVectors, Ed25519Rfc8032, ::testing::ValuesIn(kRfc8032Vectors),
                         [](const auto& info) {
                             std::string name = info.param.name;
                             std::string identifier;
                             for (char character : name) {
                                 if (std::isalnum(static_cast<unsigned char>(character))) {
                                     identifier += character;
                                 }
                             }
                             return identifier;
                         });

TEST(Ed25519Rfc8032Vectors, AllFiveArePresent) {
    EXPECT_EQ(std::size(kRfc8032Vectors), 5u);
    EXPECT_EQ(from_hex(kRfc8032Vectors[3].message).size(), 1023u);  // TEST 1024
}

// S + L: the same point equation holds (the scalar is only used mod L), so only the
// canonicality check refuses it. This is the malleability RFC 8032 §5.1.7 rules out.
Bytes add_group_order(const Bytes& scalar) {
    Bytes sum(32);
    unsigned carry = 0;
    for (int index = 0; index < 32; ++index) {
        unsigned value = scalar[index] + kGroupOrder[index] + carry;
        sum[index] = uint8_t(value);
        carry = value >> 8;
    }
    return sum;
}

TEST(Ed25519Malformed, RejectsSPlusGroupOrder) {
    ASSERT_GE(sodium_init(), 0);
    const auto& vector = kRfc8032Vectors[1];
    Bytes key = from_hex(vector.public_key);
    Bytes message = from_hex(vector.message);
    Bytes signature = from_hex(vector.signature);
    Bytes malleated_s = add_group_order(Bytes(signature.begin() + 32, signature.end()));
    std::copy(malleated_s.begin(), malleated_s.end(), signature.begin() + 32);
    EXPECT_EQ(check(key, message, signature), Ed25519Verdict::ScalarNonCanonical);
    EXPECT_EQ(ed25519_verify(key.data(), message.data(), message.size(), signature.data()),
              Status(Errno::BadMessage));
    EXPECT_NE(
        crypto_sign_verify_detached(signature.data(), message.data(), message.size(), key.data()),
        0)
        << "libsodium accepts S + L too: the verifiers disagree";
}

TEST(Ed25519Malformed, RejectsSEqualToGroupOrderAndAllOnes) {
    const auto& vector = kRfc8032Vectors[0];
    Bytes key = from_hex(vector.public_key);
    Bytes message;
    Bytes signature = from_hex(vector.signature);
    std::copy(std::begin(kGroupOrder), std::end(kGroupOrder), signature.begin() + 32);
    EXPECT_EQ(check(key, message, signature), Ed25519Verdict::ScalarNonCanonical);
    std::fill(signature.begin() + 32, signature.end(), 0xff);
    EXPECT_EQ(check(key, message, signature), Ed25519Verdict::ScalarNonCanonical);
}

TEST(Ed25519Malformed, ScalarCanonicalBoundary) {
    uint8_t scalar[32];
    std::copy(std::begin(kGroupOrder), std::end(kGroupOrder), scalar);
    EXPECT_FALSE(scalar_is_canonical(scalar));  // L
    scalar[0] -= 1;
    EXPECT_TRUE(scalar_is_canonical(scalar));  // L - 1
    uint8_t zero[32] = {};
    EXPECT_TRUE(scalar_is_canonical(zero));
}

struct MalformedKey {
    const char* what;
    const char* encoding;
    Ed25519Verdict verdict;
};

// gtest prints parameters on failure: the description, not the struct's bytes.
void PrintTo(const MalformedKey& key_case, std::ostream* stream) {
    *stream << key_case.what << " (" << key_case.encoding << ")";
}

class Ed25519MalformedKey : public ::testing::TestWithParam<MalformedKey> {};

TEST_P(Ed25519MalformedKey, IsRefusedAsInvalidArgument) {
    const auto& key_case = GetParam();
    Bytes key = from_hex(key_case.encoding);
    const auto& vector = kRfc8032Vectors[2];
    Bytes message = from_hex(vector.message);
    Bytes signature = from_hex(vector.signature);
    EXPECT_EQ(check(key, message, signature), key_case.verdict) << key_case.what;
    EXPECT_EQ(ed25519_verify(key.data(), message.data(), message.size(), signature.data()),
              Status(Errno::InvalidArgument))
        << key_case.what;
}

INSTANTIATE_TEST_SUITE_P(
    Keys, Ed25519MalformedKey,
    ::testing::Values(
        MalformedKey{"y = p", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                     Ed25519Verdict::PublicKeyNonCanonical},
        MalformedKey{"y = p + 3 (would decode as y = 3)",
                     "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                     Ed25519Verdict::PublicKeyNonCanonical},
        MalformedKey{"y = 2^255 - 1",
                     "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                     Ed25519Verdict::PublicKeyNonCanonical},
        MalformedKey{"x = 0 with the sign bit (negative zero)",
                     "0100000000000000000000000000000000000000000000000000000000000080",
                     Ed25519Verdict::PublicKeyNonCanonical},
        MalformedKey{"y = 2 is not on the curve",
                     "0200000000000000000000000000000000000000000000000000000000000000",
                     Ed25519Verdict::PublicKeyNotOnCurve},
        MalformedKey{"y = 7 is not on the curve",
                     "0700000000000000000000000000000000000000000000000000000000000000",
                     Ed25519Verdict::PublicKeyNotOnCurve},
        MalformedKey{"identity (order 1)",
                     "0100000000000000000000000000000000000000000000000000000000000000",
                     Ed25519Verdict::PublicKeySmallOrder},
        MalformedKey{"y = -1 (order 2)",
                     "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                     Ed25519Verdict::PublicKeySmallOrder},
        MalformedKey{"y = 0 (order 4)",
                     "0000000000000000000000000000000000000000000000000000000000000000",
                     Ed25519Verdict::PublicKeySmallOrder},
        MalformedKey{"y = 0, negative x (order 4)",
                     "0000000000000000000000000000000000000000000000000000000000000080",
                     Ed25519Verdict::PublicKeySmallOrder},
        MalformedKey{"order 8", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
                     Ed25519Verdict::PublicKeySmallOrder},
        MalformedKey{"order 8", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
                     Ed25519Verdict::PublicKeySmallOrder},
        MalformedKey{"order 8", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
                     Ed25519Verdict::PublicKeySmallOrder},
        MalformedKey{"order 8", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
                     Ed25519Verdict::PublicKeySmallOrder}));

TEST(Ed25519Verdicts, EveryVerdictHasItsOwnText) {
    const Ed25519Verdict verdicts[] = {Ed25519Verdict::Valid,
                                       Ed25519Verdict::PublicKeyNonCanonical,
                                       Ed25519Verdict::PublicKeyNotOnCurve,
                                       Ed25519Verdict::PublicKeySmallOrder,
                                       Ed25519Verdict::ScalarNonCanonical,
                                       Ed25519Verdict::Mismatch};
    std::vector<std::string> texts;
    for (Ed25519Verdict verdict : verdicts) {
        std::string text = ed25519_verdict_text(verdict);
        EXPECT_EQ(std::count(texts.begin(), texts.end(), text), 0) << text;
        texts.push_back(text);
    }
}

}  // namespace
}  // namespace umka::crypto
