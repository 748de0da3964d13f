// umka-bundle on real signed modules (the modcheck test modules) and on crafted archives:
// create/list/extract round trips, signature verification, and refusals of bad input
// (unsafe names, corrupt or truncated archives, too many entries), each naming its reason.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <utility>
#include <vector>

#include "test/host/cpio_builder.h"
#include "test/host/crypto/tool_runner.h"

namespace umka::crypto {
namespace {

using test::read_bytes;
using test::run_tool;
using test::write_bytes;
using Bytes = std::vector<uint8_t>;

const std::string kModuleDir = UMKA_TEST_MODULE_DIR;
const std::string kSigned = kModuleDir + "/modcheck_clean.signed";
const std::string kUnsigned = kModuleDir + "/modcheck_clean.so";

test::ToolResult bundle(const std::vector<std::string>& arguments) {
    return run_tool(UMKA_BUNDLE_TOOL, arguments);
}

// A fresh directory per test.
std::string work_dir(const std::string& name) {
    std::string path = ::testing::TempDir() + "umka_bundle_" + name;
    run_tool("rm", {"-rf", path});
    mkdir(path.c_str(), 0755);
    return path;
}

std::string write_text(const std::string& path, const std::string& text) {
    write_bytes(path, Bytes(text.begin(), text.end()));
    return path;
}

std::string write_archive(const std::string& path,
                          const std::vector<std::pair<std::string, std::string>>& files,
                          bool with_trailer = true) {
    write_bytes(path, umka::testing::make_archive(files, with_trailer));
    return path;
}

bool exists(const std::string& path) {
    struct stat info;
    return stat(path.c_str(), &info) == 0;
}

TEST(UmkaBundle, CreateListExtractRoundTrip) {
    std::string dir = work_dir("round_trip");
    std::string manifest = write_text(dir + "/manifest.txt", "module clean.umod tier=0\n");
    std::string output = dir + "/bundle.cpio";
    auto created = bundle({"create", "--output", output, "--manifest", manifest,
                           "clean.umod=" + kSigned, "plain.umod=" + kUnsigned, manifest});
    // manifest.txt given twice (as --manifest and by file name): refused.
    EXPECT_EQ(created.exit_code, 1) << created.output;
    EXPECT_NE(created.output.find("entry 'manifest.txt'"), std::string::npos) << created.output;
    EXPECT_NE(created.output.find("given twice"), std::string::npos) << created.output;

    created = bundle({"create", "--output", output, "--manifest", manifest, "clean.umod=" + kSigned,
                      "plain.umod=" + kUnsigned});
    ASSERT_EQ(created.exit_code, 0) << created.output;

    auto listed = bundle({"list", output});
    ASSERT_EQ(listed.exit_code, 0) << listed.output;
    EXPECT_NE(listed.output.find("manifest.txt"), std::string::npos) << listed.output;
    EXPECT_NE(listed.output.find("clean.umod"), std::string::npos) << listed.output;
    EXPECT_NE(listed.output.find(std::to_string(read_bytes(kSigned).size()) + " bytes"),
              std::string::npos)
        << listed.output;
    EXPECT_NE(listed.output.find("module modcheck_clean version 1, signed"), std::string::npos)
        << listed.output;
    EXPECT_NE(listed.output.find("module modcheck_clean version 1, unsigned"), std::string::npos)
        << listed.output;
    EXPECT_NE(listed.output.find("3 entries"), std::string::npos) << listed.output;

    std::string out = dir + "/out";
    auto extracted = bundle({"extract", output, "--dir", out});
    ASSERT_EQ(extracted.exit_code, 0) << extracted.output;
    EXPECT_EQ(read_bytes(out + "/clean.umod"), read_bytes(kSigned));
    EXPECT_EQ(read_bytes(out + "/plain.umod"), read_bytes(kUnsigned));
    EXPECT_EQ(read_bytes(out + "/manifest.txt"), read_bytes(manifest));

    // Extracting again would overwrite: refused, naming the file.
    extracted = bundle({"extract", output, "--dir", out});
    EXPECT_EQ(extracted.exit_code, 1) << extracted.output;
    EXPECT_NE(extracted.output.find("manifest.txt"), std::string::npos) << extracted.output;
}

TEST(UmkaBundle, CreateIsReproducible) {
    std::string dir = work_dir("reproducible");
    std::string manifest = write_text(dir + "/manifest.txt", "module clean.umod\n");
    ASSERT_EQ(bundle({"create", "--output", dir + "/a.cpio", "--manifest", manifest,
                      "clean.umod=" + kSigned})
                  .exit_code,
              0);
    ASSERT_EQ(bundle({"create", "--output", dir + "/b.cpio", "--manifest", manifest,
                      "clean.umod=" + kSigned})
                  .exit_code,
              0);
    EXPECT_EQ(read_bytes(dir + "/a.cpio"), read_bytes(dir + "/b.cpio"));
}

TEST(UmkaBundle, CreateRefusesUnsafeNamesAndMissingFiles) {
    std::string dir = work_dir("create_refusals");
    for (std::string name :
         {"../x", "a/b", "..", "TRAILER!!!", "root/../x", "root//x", "root/", "root/a/./b"}) {
        auto result = bundle({"create", "--output", dir + "/bad.cpio", name + "=" + kSigned});
        EXPECT_EQ(result.exit_code, 1) << name << ": " << result.output;
        EXPECT_NE(result.output.find("entry '" + name + "'"), std::string::npos) << result.output;
        EXPECT_FALSE(exists(dir + "/bad.cpio"));
    }
    auto result = bundle({"create", "--output", dir + "/bad.cpio", "x.umod=/nonexistent/x.umod"});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.output.find("/nonexistent/x.umod"), std::string::npos) << result.output;
    EXPECT_EQ(bundle({"create", "--output", dir + "/bad.cpio"}).exit_code, 2);
}

// The root file system's tree: root/ paths are entries, extracted into their directories;
// a file that another entry needs as a directory is refused.
TEST(UmkaBundle, RootTreePathsRoundTrip) {
    std::string dir = work_dir("root_tree");
    auto result = bundle({"create", "--output", dir + "/tree.cpio", "root/etc/motd=" + kSigned,
                          "root/etc/deep/x=" + kSigned});
    ASSERT_EQ(result.exit_code, 0) << result.output;
    result = bundle({"extract", dir + "/tree.cpio", "--dir", dir + "/out"});
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_TRUE(exists(dir + "/out/root/etc/motd"));
    EXPECT_TRUE(exists(dir + "/out/root/etc/deep/x"));
    result = bundle({"create", "--output", dir + "/clash.cpio", "root/etc=" + kSigned,
                     "root/etc/motd=" + kSigned});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.output.find("'root/etc/motd' needs it to be a directory"), std::string::npos)
        << result.output;
    EXPECT_FALSE(exists(dir + "/clash.cpio"));
}

TEST(UmkaBundle, ExtractRefusesPathTraversalBeforeWritingAnything) {
    std::string dir = work_dir("traversal");
    std::string archive =
        write_archive(dir + "/evil.cpio", {{"good.txt", "fine"}, {"../escaped", "evil"}});
    std::string out = dir + "/out";
    auto result = bundle({"extract", archive, "--dir", out});
    EXPECT_EQ(result.exit_code, 1) << result.output;
    EXPECT_NE(result.output.find("entry '../escaped' refused"), std::string::npos) << result.output;
    EXPECT_FALSE(exists(dir + "/escaped"));
    EXPECT_FALSE(exists(out + "/good.txt"));

    archive = write_archive(dir + "/absolute.cpio", {{"/etc/passwd", "evil"}});
    result = bundle({"extract", archive, "--dir", out});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.output.find("contains '/'"), std::string::npos) << result.output;

    archive = write_archive(dir + "/twice.cpio", {{"a.txt", "1"}, {"a.txt", "2"}});
    result = bundle({"extract", archive, "--dir", out});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.output.find("appears twice"), std::string::npos) << result.output;
}

TEST(UmkaBundle, CorruptArchivesAreRefusedWithOffsetAndReason) {
    std::string dir = work_dir("corrupt");
    std::string garbled = dir + "/garbled.cpio";
    write_text(garbled, std::string(200, 'x'));
    auto result = bundle({"list", garbled});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.output.find("corrupt at byte 0: bad cpio magic"), std::string::npos)
        << result.output;

    std::string truncated =
        write_archive(dir + "/truncated.cpio", {{"a.txt", "data"}}, /*with_trailer=*/false);
    result = bundle({"verify", truncated, "--public", UMKA_MODULE_SIGNING_PUBLIC});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.output.find("archive ends before its TRAILER!!! entry"), std::string::npos)
        << result.output;

    Bytes cut = umka::testing::make_archive({{"a.txt", std::string(100, 'a')}});
    cut.resize(150);
    write_bytes(dir + "/cut.cpio", cut);
    result = bundle({"extract", dir + "/cut.cpio", "--dir", dir + "/out"});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.output.find("entry data runs past the end of the archive"), std::string::npos)
        << result.output;
    EXPECT_FALSE(exists(dir + "/out"));
}

TEST(UmkaBundle, TooManyEntriesAreRefused) {
    std::string dir = work_dir("many");
    std::vector<std::pair<std::string, std::string>> files;
    for (int index = 0; index < 1025; ++index) files.push_back({std::to_string(index), ""});
    std::string archive = write_archive(dir + "/many.cpio", files);
    auto result = bundle({"list", archive});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.output.find("1025 entries, more than the 1024"), std::string::npos)
        << result.output;
}

TEST(UmkaBundle, VerifyNamesEveryBadModule) {
    std::string dir = work_dir("verify");
    Bytes tampered = read_bytes(kSigned);
    ASSERT_GT(tampered.size(), 200u);
    tampered[100] ^= 0x01;
    write_bytes(dir + "/tampered.umod", tampered);
    std::string manifest = write_text(dir + "/manifest.txt", "\n");
    std::string good = dir + "/good.cpio";
    ASSERT_EQ(
        bundle({"create", "--output", good, "--manifest", manifest, "a.umod=" + kSigned}).exit_code,
        0);
    auto result = bundle({"verify", good, "--public", UMKA_MODULE_SIGNING_PUBLIC});
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("a.umod: signature OK"), std::string::npos) << result.output;

    std::string bad = dir + "/bad.cpio";
    ASSERT_EQ(bundle({"create", "--output", bad, "--manifest", manifest, "a.umod=" + kSigned,
                      "tampered.umod=" + dir + "/tampered.umod", "plain.umod=" + kUnsigned})
                  .exit_code,
              0);
    result = bundle({"verify", bad, "--public", UMKA_MODULE_SIGNING_PUBLIC});
    EXPECT_EQ(result.exit_code, 1) << result.output;
    EXPECT_NE(result.output.find("tampered.umod: BAD"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("plain.umod: BAD: module is unsigned"), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("2 of 3 modules fail verification"), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("tampered.umod, plain.umod"), std::string::npos) << result.output;

    // A key file that is not a 32-byte public key.
    result = bundle({"verify", good, "--public", manifest});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.output.find("not a 32-byte Ed25519 public key"), std::string::npos)
        << result.output;
}

TEST(UmkaBundle, UsageErrors) {
    EXPECT_EQ(bundle({}).exit_code, 2);
    EXPECT_EQ(bundle({"frobnicate"}).exit_code, 2);
    EXPECT_EQ(bundle({"list"}).exit_code, 2);
    EXPECT_EQ(bundle({"extract", "x.cpio"}).exit_code, 2);
    EXPECT_EQ(bundle({"verify", "x.cpio"}).exit_code, 2);
}

}  // namespace
}  // namespace umka::crypto
