// umka-sign end to end: key generation (and its refusal to overwrite), signing in the
// documented format, verification, the public-key header, and the build's own key header.
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "nucleus/crypto/module_signature.h"
#include "test/host/crypto/hex.h"
#include "test/host/crypto/tool_runner.h"
#include "umka/module_signing_key.h"

namespace umka::crypto {
namespace {

using test::read_bytes;
using test::run_tool;
using test::write_bytes;
using Bytes = std::vector<uint8_t>;

test::ToolResult sign_tool(const std::vector<std::string>& arguments) {
    return run_tool(test::tool_path(UMKA_SIGN_TOOL, "UMKA_SIGN_TOOL"), arguments);
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

class UmkaSign : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_GE(sodium_init(), 0);
        std::string pattern = ::testing::TempDir() + "umka_sign_XXXXXX";
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        directory_ = pattern + "/";
        secret_ = directory_ + "key.secret";
        public_ = directory_ + "key.public";
        module_ = directory_ + "module.so";
        // A real module: sign refuses anything umka-modcheck refuses.
        module_bytes_ = read_bytes(std::string(UMKA_TEST_MODULE_DIR) + "/modcheck_clean.so");
        write_bytes(module_, module_bytes_);
    }

    void TearDown() override {
        std::string command = "rm -rf " + test::shell_quote(directory_);
        ASSERT_EQ(std::system(command.c_str()), 0);
    }

    void generate_keys() {
        test::ToolResult result = sign_tool({"keygen", "--secret", secret_, "--public", public_});
        ASSERT_EQ(result.exit_code, 0) << result.output;
    }

    std::string directory_, secret_, public_, module_;
    Bytes module_bytes_;
};

TEST_F(UmkaSign, KeygenWritesConsistentKeysWithPrivatePermissions) {
    generate_keys();
    Bytes secret = read_bytes(secret_);
    Bytes public_key = read_bytes(public_);
    ASSERT_EQ(secret.size(), 64u);
    ASSERT_EQ(public_key.size(), 32u);
    EXPECT_EQ(Bytes(secret.begin() + 32, secret.end()), public_key);
    struct stat status;
    ASSERT_EQ(stat(secret_.c_str(), &status), 0);
    EXPECT_EQ(status.st_mode & 0777, 0600u);
}

TEST_F(UmkaSign, KeygenRefusesToOverwrite) {
    generate_keys();
    Bytes before = read_bytes(secret_);
    test::ToolResult result = sign_tool({"keygen", "--secret", secret_});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_TRUE(contains(result.output, "refusing to overwrite existing " + secret_))
        << result.output;
    EXPECT_EQ(read_bytes(secret_), before);
}

TEST_F(UmkaSign, KeygenRefusesExistingPublicWithoutLeavingASecret) {
    write_bytes(public_, Bytes(32, 1));
    test::ToolResult result = sign_tool({"keygen", "--secret", secret_, "--public", public_});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_TRUE(contains(result.output, "refusing to overwrite existing " + public_))
        << result.output;
    EXPECT_NE(access(secret_.c_str(), F_OK), 0) << "a secret key was left behind";
}

TEST_F(UmkaSign, PublicDerivesTheKeygenPublicKey) {
    generate_keys();
    std::string derived = directory_ + "derived.public";
    test::ToolResult result = sign_tool({"public", "--secret", secret_, "--output", derived});
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(read_bytes(derived), read_bytes(public_));
}

TEST_F(UmkaSign, CorruptOrWrongSizeSecretKeyIsRefused) {
    generate_keys();
    Bytes secret = read_bytes(secret_);
    secret[40] ^= 1;  // public half no longer matches the seed
    write_bytes(secret_, secret);
    test::ToolResult result =
        sign_tool({"sign", "--secret", secret_, "--output", directory_ + "out", module_});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_TRUE(contains(result.output, "is corrupt: its public half does not match its seed"))
        << result.output;
    write_bytes(secret_, Bytes(10));
    result = sign_tool({"sign", "--secret", secret_, "--output", directory_ + "out", module_});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_TRUE(contains(result.output, "has 10 bytes")) << result.output;
}

TEST_F(UmkaSign, SignWritesTheDocumentedFormat) {
    generate_keys();
    std::string output = directory_ + "module.signed";
    test::ToolResult result = sign_tool({"sign", "--secret", secret_, "--output", output, module_});
    ASSERT_EQ(result.exit_code, 0) << result.output;
    Bytes file = read_bytes(output);
    ASSERT_EQ(file.size(), module_bytes_.size() + 64 + 16);
    EXPECT_EQ(Bytes(file.begin(), file.begin() + long(module_bytes_.size())), module_bytes_);
    EXPECT_EQ(std::string(file.end() - 16, file.end() - 8), "UMKASIG1");
    uint64_t length = 0;
    for (int index = 7; index >= 0; --index) length = length << 8 | file[file.size() - 8 + index];
    EXPECT_EQ(length, module_bytes_.size());

    Bytes public_key = read_bytes(public_);
    EXPECT_EQ(crypto_sign_verify_detached(file.data() + module_bytes_.size(), module_bytes_.data(),
                                          module_bytes_.size(), public_key.data()),
              0);
    SignedModuleView view;
    const char* reason = nullptr;
    ASSERT_EQ(split_signed_module(file.data(), file.size(), view, &reason), Status::ok()) << reason;
    EXPECT_EQ(verify_module_signature(view, public_key.data(), &reason), Status::ok()) << reason;
}

TEST_F(UmkaSign, SignRefusesAnAlreadySignedModule) {
    generate_keys();
    std::string output = directory_ + "module.signed";
    ASSERT_EQ(sign_tool({"sign", "--secret", secret_, "--output", output, module_}).exit_code, 0);
    test::ToolResult result =
        sign_tool({"sign", "--secret", secret_, "--output", directory_ + "twice", output});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_TRUE(contains(result.output, "already signed")) << result.output;
}

TEST_F(UmkaSign, SignRefusesATruncatedModuleWithTheCheckersReason) {
    generate_keys();
    std::string truncated = directory_ + "truncated.so";
    write_bytes(truncated, Bytes(module_bytes_.begin(), module_bytes_.begin() + 3000));
    std::string output = directory_ + "truncated.signed";
    test::ToolResult result =
        sign_tool({"sign", "--secret", secret_, "--output", output, truncated});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_TRUE(contains(result.output, truncated + ": not signed, the module check refuses it:"))
        << result.output;
    EXPECT_TRUE(contains(result.output, "elf-header: section header table")) << result.output;
    EXPECT_TRUE(contains(result.output, "extends past the end of the file")) << result.output;
    EXPECT_NE(access(output.c_str(), F_OK), 0) << "a refused module must leave no output";
    // The loader's own refusal comes first: the tools share its verdict.
    EXPECT_TRUE(contains(result.output, "loader: ")) << result.output;

    // Only an explicit --unchecked signs it (test fixtures the loader must refuse), and the
    // signature then verifies: it vouches for the bytes, the loader for their shape.
    ASSERT_EQ(sign_tool({"sign", "--secret", secret_, "--output", output, "--unchecked", truncated})
                  .exit_code,
              0);
    EXPECT_EQ(sign_tool({"verify", "--public", public_, output}).exit_code, 0);
}

TEST_F(UmkaSign, SignRefusesDirectoriesAndDevicesWithoutReadingThem) {
    generate_keys();
    std::string output = directory_ + "out.signed";
    test::ToolResult device =
        sign_tool({"sign", "--secret", secret_, "--output", output, "/dev/zero"});
    EXPECT_EQ(device.exit_code, 1);
    EXPECT_TRUE(contains(device.output, "/dev/zero: not a regular file (a character device)"))
        << device.output;
    test::ToolResult folder =
        sign_tool({"sign", "--secret", secret_, "--output", output, directory_});
    EXPECT_EQ(folder.exit_code, 1);
    EXPECT_TRUE(contains(folder.output, directory_ + ": is a directory")) << folder.output;
    test::ToolResult key =
        sign_tool({"sign", "--secret", "/dev/zero", "--output", output, module_});
    EXPECT_EQ(key.exit_code, 1);
    EXPECT_TRUE(contains(key.output, "/dev/zero: not a regular file")) << key.output;
}

TEST_F(UmkaSign, VerifyAcceptsGoodAndRefusesTamperedUnsignedAndForeign) {
    generate_keys();
    std::string output = directory_ + "module.signed";
    ASSERT_EQ(sign_tool({"sign", "--secret", secret_, "--output", output, module_}).exit_code, 0);

    test::ToolResult good = sign_tool({"verify", "--public", public_, output});
    EXPECT_EQ(good.exit_code, 0) << good.output;
    EXPECT_TRUE(contains(good.output, output + ": signature OK (" +
                                          std::to_string(module_bytes_.size()) + " bytes signed"))
        << good.output;

    Bytes tampered = read_bytes(output);
    tampered[1234] ^= 0x04;
    std::string tampered_path = directory_ + "tampered.signed";
    write_bytes(tampered_path, tampered);
    test::ToolResult bad = sign_tool({"verify", "--public", public_, tampered_path});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_TRUE(
        contains(bad.output, tampered_path + ": module signature does not match its contents"))
        << bad.output;

    test::ToolResult unsigned_result = sign_tool({"verify", "--public", public_, module_});
    EXPECT_EQ(unsigned_result.exit_code, 1);
    EXPECT_TRUE(contains(unsigned_result.output, "module is unsigned (no UMKASIG1 trailer)"))
        << unsigned_result.output;

    std::string other_secret = directory_ + "other.secret",
                other_public = directory_ + "other.public";
    ASSERT_EQ(sign_tool({"keygen", "--secret", other_secret, "--public", other_public}).exit_code,
              0);
    test::ToolResult foreign = sign_tool({"verify", "--public", other_public, output});
    EXPECT_EQ(foreign.exit_code, 1) << foreign.output;
}

TEST_F(UmkaSign, PublicHeaderEmbedsTheKeyAndRewritesOnlyOnChange) {
    generate_keys();
    std::string header = directory_ + "key.h";
    ASSERT_EQ(sign_tool({"public-header", "--public", public_, "--output", header}).exit_code, 0);
    Bytes text_bytes = read_bytes(header);
    std::string text(text_bytes.begin(), text_bytes.end());
    EXPECT_TRUE(contains(text, "namespace umka::crypto {")) << text;
    EXPECT_TRUE(contains(text, "inline constexpr uint8_t kModuleSigningPublicKey[32] = {")) << text;
    Bytes public_key = read_bytes(public_);
    char first[8];
    std::snprintf(first, sizeof(first), "0x%02x,", public_key[0]);
    EXPECT_TRUE(contains(text, first)) << text;
    EXPECT_TRUE(contains(text, test::to_hex(public_key))) << text;

    struct stat before, after;
    ASSERT_EQ(stat(header.c_str(), &before), 0);
    usleep(20000);
    ASSERT_EQ(sign_tool({"public-header", "--public", public_, "--output", header}).exit_code, 0);
    ASSERT_EQ(stat(header.c_str(), &after), 0);
    EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
    EXPECT_EQ(before.st_ino, after.st_ino);
}

TEST_F(UmkaSign, UsageErrorsExitTwo) {
    EXPECT_EQ(sign_tool({}).exit_code, 2);
    EXPECT_EQ(sign_tool({"frobnicate"}).exit_code, 2);
    EXPECT_EQ(sign_tool({"sign", "--secret", secret_}).exit_code, 2);
    EXPECT_EQ(sign_tool({"keygen", "--secret"}).exit_code, 2);
    EXPECT_EQ(sign_tool({"verify", "--bogus", "x", module_}).exit_code, 2);
}

// The header the build generated for the nucleus carries the build's public key.
TEST(BuildSigningKey, GeneratedHeaderMatchesTheBuildKey) {
    Bytes public_key = read_bytes(UMKA_MODULE_SIGNING_PUBLIC);
    ASSERT_EQ(public_key.size(), 32u) << UMKA_MODULE_SIGNING_PUBLIC;
    EXPECT_EQ(Bytes(std::begin(kModuleSigningPublicKey), std::end(kModuleSigningPublicKey)),
              public_key);
}

// The build signed modcheck_clean with its key (umka_sign_module ... CHECK); the nucleus
// verifier accepts it with the embedded public key.
TEST(BuildSigningKey, BuildSignedModuleVerifiesWithTheEmbeddedKey) {
    Bytes file = read_bytes(std::string(UMKA_TEST_MODULE_DIR) + "/modcheck_clean.signed");
    SignedModuleView view;
    const char* reason = nullptr;
    ASSERT_EQ(split_signed_module(file.data(), file.size(), view, &reason), Status::ok()) << reason;
    EXPECT_EQ(verify_module_signature(view, kModuleSigningPublicKey, &reason), Status::ok())
        << reason;
}

}  // namespace
}  // namespace umka::crypto
