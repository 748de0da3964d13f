// The signed module format: split_signed_module and verify_module_signature on modules
// signed with libsodium, and on unsigned, truncated, padded and tampered files.
#include "nucleus/crypto/module_signature.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>
#include <string>
#include <vector>

namespace umka::crypto {
namespace {

using Bytes = std::vector<uint8_t>;

// The format, written out independently of umka-sign so the two can be compared.
Bytes sign_module(const Bytes& image, const uint8_t* secret_key) {
    Bytes file = image;
    uint8_t signature[crypto_sign_BYTES];
    crypto_sign_detached(signature, nullptr, image.data(), image.size(), secret_key);
    file.insert(file.end(), signature, signature + sizeof(signature));
    const char magic[] = "UMKASIG1";
    file.insert(file.end(), magic, magic + 8);
    uint64_t length = image.size();
    for (int index = 0; index < 8; ++index) file.push_back(uint8_t(length >> (8 * index)));
    return file;
}

void set_signed_length(Bytes& file, uint64_t length) {
    for (int index = 0; index < 8; ++index)
        file[file.size() - 8 + index] = uint8_t(length >> (8 * index));
}

class ModuleSignature : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_GE(sodium_init(), 0);
        crypto_sign_keypair(public_key_, secret_key_);
        image_.resize(5000);
        randombytes_buf(image_.data(), image_.size());
        std::memcpy(image_.data(),
                    "\x7f"
                    "ELF",
                    4);
        signed_ = sign_module(image_, secret_key_);
    }

    // Splits and verifies; returns the status and leaves the reason in reason_.
    Status split_and_verify(const Bytes& file) {
        SignedModuleView view;
        Status status = split_signed_module(file.data(), file.size(), view, &reason_);
        if (status.is_error()) return status;
        return verify_module_signature(view, public_key_, &reason_);
    }

    std::string reason() const { return reason_ ? reason_ : "(null)"; }

    uint8_t public_key_[crypto_sign_PUBLICKEYBYTES];
    uint8_t secret_key_[crypto_sign_SECRETKEYBYTES];
    Bytes image_;
    Bytes signed_;
    const char* reason_ = "not set";
};

TEST_F(ModuleSignature, SplitFindsImageAndSignature) {
    SignedModuleView view;
    ASSERT_EQ(split_signed_module(signed_.data(), signed_.size(), view, &reason_), Status::ok());
    EXPECT_EQ(reason_, nullptr);
    EXPECT_EQ(view.image, signed_.data());
    EXPECT_EQ(view.image_size, image_.size());
    EXPECT_EQ(view.signature, signed_.data() + image_.size());
    EXPECT_TRUE(has_module_signature_trailer(signed_.data(), signed_.size()));
}

TEST_F(ModuleSignature, ValidSignatureVerifies) {
    EXPECT_EQ(split_and_verify(signed_), Status::ok()) << reason();
    EXPECT_EQ(reason_, nullptr);
}

TEST_F(ModuleSignature, OneByteImageVerifies) {
    Bytes file = sign_module(Bytes{0x7f}, secret_key_);
    EXPECT_EQ(split_and_verify(file), Status::ok()) << reason();
}

TEST_F(ModuleSignature, NullReasonPointerIsAllowed) {
    SignedModuleView view;
    EXPECT_EQ(split_signed_module(image_.data(), image_.size(), view, nullptr),
              Status(Errno::ExecFormat));
    ASSERT_EQ(split_signed_module(signed_.data(), signed_.size(), view, nullptr), Status::ok());
    EXPECT_EQ(verify_module_signature(view, public_key_, nullptr), Status::ok());
}

TEST_F(ModuleSignature, UnsignedModuleIsRefused) {
    EXPECT_EQ(split_and_verify(image_), Status(Errno::ExecFormat));
    EXPECT_STREQ(reason_, "module is unsigned (no UMKASIG1 trailer)");
    EXPECT_FALSE(has_module_signature_trailer(image_.data(), image_.size()));
}

TEST_F(ModuleSignature, WrongMagicVersionIsUnsigned) {
    Bytes file = signed_;
    file[file.size() - 9] = '2';  // "UMKASIG2"
    EXPECT_EQ(split_and_verify(file), Status(Errno::ExecFormat));
    EXPECT_STREQ(reason_, "module is unsigned (no UMKASIG1 trailer)");
}

TEST_F(ModuleSignature, TinyAndEmptyFilesAreUnsigned) {
    Bytes tiny = {'U', 'M', 'K', 'A'};
    EXPECT_EQ(split_and_verify(tiny), Status(Errno::ExecFormat));
    EXPECT_STREQ(reason_, "module is unsigned (too short to hold a UMKASIG1 trailer)");
    SignedModuleView view;
    EXPECT_EQ(split_signed_module(nullptr, 0, view, &reason_), Status(Errno::ExecFormat));
}

TEST_F(ModuleSignature, NullBytesWithSizeAreInvalidArgument) {
    SignedModuleView view;
    EXPECT_EQ(split_signed_module(nullptr, 100, view, &reason_), Status(Errno::InvalidArgument));
    EXPECT_STREQ(reason_, "module bytes are missing (null pointer)");
}

TEST_F(ModuleSignature, TrailerWithoutRoomForSignature) {
    Bytes file(signed_.end() - 40, signed_.end());  // 24 signature bytes + trailer
    EXPECT_EQ(split_and_verify(file), Status(Errno::ExecFormat));
    EXPECT_NE(reason().find("too short to hold the 64-byte signature"), std::string::npos)
        << reason();
}

TEST_F(ModuleSignature, TruncatedImageIsRefused) {
    Bytes file = signed_;
    file.erase(file.begin() + 100);  // the trailer still claims the full image
    EXPECT_EQ(split_and_verify(file), Status(Errno::ExecFormat));
    EXPECT_STREQ(reason_, "signature trailer claims more bytes than the file has");
}

TEST_F(ModuleSignature, HugeSignedLengthDoesNotWrapAround) {
    Bytes file = signed_;
    set_signed_length(file, UINT64_MAX);
    EXPECT_EQ(split_and_verify(file), Status(Errno::ExecFormat));
    EXPECT_STREQ(reason_, "signature trailer claims more bytes than the file has");
    set_signed_length(file, UINT64_MAX - kModuleSignatureOverhead + 1);
    EXPECT_EQ(split_and_verify(file), Status(Errno::ExecFormat));
}

TEST_F(ModuleSignature, BytesBetweenImageAndSignatureAreRefused) {
    Bytes file = signed_;
    set_signed_length(file, image_.size() - 1);
    EXPECT_EQ(split_and_verify(file), Status(Errno::ExecFormat));
    EXPECT_NE(reason().find("claims fewer bytes"), std::string::npos) << reason();
}

TEST_F(ModuleSignature, EmptySignedImageIsRefused) {
    Bytes file(signed_.end() - kModuleSignatureOverhead, signed_.end());
    set_signed_length(file, 0);
    EXPECT_EQ(split_and_verify(file), Status(Errno::ExecFormat));
    EXPECT_STREQ(reason_, "signature trailer covers an empty image");
}

TEST_F(ModuleSignature, EveryTamperedImageByteSampleIsRefused) {
    for (size_t index : {size_t(0), size_t(4), image_.size() / 2, image_.size() - 1}) {
        Bytes file = signed_;
        file[index] ^= 0x20;
        EXPECT_EQ(split_and_verify(file), Status(Errno::ExecFormat)) << "byte " << index;
        EXPECT_NE(reason().find("does not match its contents"), std::string::npos) << reason();
    }
}

TEST_F(ModuleSignature, TamperedSignatureIsRefused) {
    Bytes file = signed_;
    file[image_.size() + 10] ^= 0x01;  // inside R
    EXPECT_EQ(split_and_verify(file), Status(Errno::ExecFormat));
    EXPECT_NE(reason().find("does not match its contents"), std::string::npos) << reason();
}

TEST_F(ModuleSignature, MalleatedScalarIsRefusedWithItsOwnReason) {
    Bytes file = signed_;
    uint8_t* scalar = file.data() + image_.size() + 32;
    std::memset(scalar, 0xff, 32);
    EXPECT_EQ(split_and_verify(file), Status(Errno::ExecFormat));
    EXPECT_NE(reason().find("scalar S"), std::string::npos) << reason();
}

TEST_F(ModuleSignature, AnotherKeyIsRefused) {
    uint8_t other_public[crypto_sign_PUBLICKEYBYTES];
    uint8_t other_secret[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(other_public, other_secret);
    Bytes file = sign_module(image_, other_secret);
    EXPECT_EQ(split_and_verify(file), Status(Errno::ExecFormat));
}

TEST_F(ModuleSignature, MalformedPublicKeyIsInvalidArgument) {
    SignedModuleView view;
    ASSERT_EQ(split_signed_module(signed_.data(), signed_.size(), view, &reason_), Status::ok());
    uint8_t identity[32] = {1};
    EXPECT_EQ(verify_module_signature(view, identity, &reason_), Status(Errno::InvalidArgument));
    EXPECT_NE(reason().find("public key is malformed"), std::string::npos) << reason();
}

TEST_F(ModuleSignature, EmptyViewIsInvalidArgument) {
    SignedModuleView view;
    EXPECT_EQ(verify_module_signature(view, public_key_, &reason_), Status(Errno::InvalidArgument));
}

TEST_F(ModuleSignature, FailedSplitClearsTheView) {
    SignedModuleView view{image_.data(), 3, image_.data()};
    EXPECT_EQ(split_signed_module(image_.data(), image_.size(), view, &reason_),
              Status(Errno::ExecFormat));
    EXPECT_EQ(view.image, nullptr);
    EXPECT_EQ(view.signature, nullptr);
    EXPECT_EQ(view.image_size, 0u);
}

}  // namespace
}  // namespace umka::crypto
