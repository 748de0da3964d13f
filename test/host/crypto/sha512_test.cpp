// SHA-512 against the FIPS 180-4 example vectors, and against libsodium for every length
// around the block and padding boundaries and for arbitrary update() splits.
#include "nucleus/crypto/sha512.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>
#include <vector>

#include "test/host/crypto/hex.h"

namespace umka::crypto {
namespace {

using test::to_hex;

std::string digest_of(const std::string& message) {
    uint8_t digest[kSha512DigestSize];
    Sha512::hash(reinterpret_cast<const uint8_t*>(message.data()), message.size(), digest);
    return to_hex(digest, sizeof(digest));
}

TEST(Sha512, FipsShortMessageAbc) {
    EXPECT_EQ(digest_of("abc"),
              "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
              "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(Sha512, EmptyMessage) {
    EXPECT_EQ(digest_of(""),
              "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
              "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
}

TEST(Sha512, Fips448BitMessage) {
    EXPECT_EQ(digest_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
              "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445");
}

// 112 bytes: the padding no longer fits in the message's block, so finish() compresses
// two blocks.
TEST(Sha512, Fips896BitMessageTwoBlockPadding) {
    EXPECT_EQ(digest_of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                        "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
              "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
              "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
}

TEST(Sha512, FipsOneMillionA) {
    EXPECT_EQ(digest_of(std::string(1000000, 'a')),
              "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
              "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b");
}

class Sha512AgainstLibsodium : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_GE(sodium_init(), 0); }
};

TEST_F(Sha512AgainstLibsodium, EveryLengthUpToThreeBlocks) {
    std::vector<uint8_t> message(3 * kSha512BlockSize + 1);
    randombytes_buf(message.data(), message.size());
    for (size_t length = 0; length <= message.size(); ++length) {
        uint8_t ours[kSha512DigestSize];
        uint8_t theirs[crypto_hash_sha512_BYTES];
        Sha512::hash(message.data(), length, ours);
        crypto_hash_sha512(theirs, message.data(), length);
        ASSERT_EQ(to_hex(ours, sizeof(ours)), to_hex(theirs, sizeof(theirs)))
            << "length " << length;
    }
}

TEST_F(Sha512AgainstLibsodium, IncrementalSplitsMatchOneShot) {
    std::vector<uint8_t> message(5000);
    randombytes_buf(message.data(), message.size());
    uint8_t expected[kSha512DigestSize];
    Sha512::hash(message.data(), message.size(), expected);
    const size_t chunk_sizes[] = {1, 3, 63, 64, 127, 128, 129, 255, 1000};
    for (size_t chunk : chunk_sizes) {
        Sha512 hasher;
        for (size_t offset = 0; offset < message.size(); offset += chunk) {
            hasher.update(message.data() + offset, std::min(chunk, message.size() - offset));
        }
        uint8_t digest[kSha512DigestSize];
        hasher.finish(digest);
        EXPECT_EQ(to_hex(digest, sizeof(digest)), to_hex(expected, sizeof(expected)))
            << "chunk size " << chunk;
    }
}

TEST_F(Sha512AgainstLibsodium, EmptyUpdatesChangeNothing) {
    const uint8_t message[] = {'a', 'b', 'c'};
    Sha512 hasher;
    hasher.update(nullptr, 0);
    hasher.update(message, 1);
    hasher.update(message + 1, 0);
    hasher.update(message + 1, 2);
    uint8_t digest[kSha512DigestSize];
    hasher.finish(digest);
    EXPECT_EQ(to_hex(digest, sizeof(digest)), digest_of("abc"));
}

}  // namespace
}  // namespace umka::crypto
