// SHA-256 against the FIPS 180-4 example vectors, and against libsodium's
// crypto_hash_sha256 for every length around the block and padding boundaries and for
// arbitrary update() splits.
#include "nucleus/crypto/sha256.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>
#include <vector>

#include "test/host/crypto/hex.h"

namespace umka::crypto {
namespace {

using test::to_hex;

std::string digest_of(const std::string& message) {
    uint8_t digest[kSha256DigestSize];
    Sha256::hash(reinterpret_cast<const uint8_t*>(message.data()), message.size(), digest);
    return to_hex(digest, sizeof(digest));
}

std::string libsodium_digest_of(const std::vector<uint8_t>& message) {
    uint8_t digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, message.data(), message.size());
    return to_hex(digest, sizeof(digest));
}

TEST(Sha256, FipsShortMessageAbc) {
    EXPECT_EQ(digest_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, EmptyMessage) {
    EXPECT_EQ(digest_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, Fips448BitMessage) {
    EXPECT_EQ(digest_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, FipsMillionAs) {
    EXPECT_EQ(digest_of(std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

class Sha256AgainstLibsodium : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_GE(sodium_init(), 0); }
};

TEST_F(Sha256AgainstLibsodium, EveryLengthUpToFourBlocks) {
    for (size_t length = 0; length <= 4 * kSha256BlockSize + 1; ++length) {
        std::vector<uint8_t> message(length);
        for (size_t index = 0; index < length; ++index)
            message[index] = uint8_t(index * 31 + length);
        uint8_t digest[kSha256DigestSize];
        Sha256::hash(message.data(), length, digest);
        ASSERT_EQ(to_hex(digest, sizeof digest), libsodium_digest_of(message))
            << "length " << length;
    }
}

TEST_F(Sha256AgainstLibsodium, ArbitraryUpdateSplitsGiveTheOneShotDigest) {
    for (int round = 0; round < 200; ++round) {
        std::vector<uint8_t> message(randombytes_uniform(5000));
        if (!message.empty()) randombytes_buf(message.data(), message.size());
        Sha256 hasher;
        size_t offset = 0;
        while (offset < message.size()) {
            size_t piece = 1 + randombytes_uniform(200);
            if (piece > message.size() - offset) piece = message.size() - offset;
            hasher.update(message.data() + offset, piece);
            offset += piece;
        }
        uint8_t digest[kSha256DigestSize];
        hasher.finish(digest);
        ASSERT_EQ(to_hex(digest, sizeof digest), libsodium_digest_of(message)) << "round " << round;
    }
}

}  // namespace
}  // namespace umka::crypto
