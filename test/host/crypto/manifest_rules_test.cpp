// umka-modcheck's .kabi_manifest validation on crafted section bytes (the layout of
// kabi-gen's kabi_base.h), for the checks the built test modules do not reach.
#include "initramfs/tools/manifest_rules.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "umka/kabi/kabi_base.h"

namespace umka::tools {
namespace {

struct Manifest {
    umka_kabi_manifest_header header;
    umka_kabi_manifest_interface interfaces[2];  // provides[0], requires[0]
    umka_kabi_manifest_state states[1];
};

Manifest valid_manifest() {
    Manifest manifest{};
    manifest.header = {UMKA_KABI_MANIFEST_MAGIC,
                       UMKA_KABI_MANIFEST_FORMAT,
                       sizeof(umka_kabi_manifest_header),
                       "serial",
                       3,
                       1,
                       0,
                       2,
                       0,
                       1,
                       1,
                       1,
                       0,
                       sizeof(Manifest),
                       0};
    manifest.interfaces[0] = {"char_device", "CharDevice", 1, 7, 0, 2, 0};
    manifest.interfaces[1] = {"kernel_services", "Log", 1, 7, 0, 2, 0};
    manifest.states[0] = {"SerialState", 2, 64};
    return manifest;
}

std::vector<Violation> check(const Manifest& manifest, size_t size = sizeof(Manifest)) {
    std::vector<uint8_t> bytes(size);
    std::memcpy(bytes.data(), &manifest, std::min(size, sizeof(Manifest)));
    std::vector<Violation> violations;
    ModuleFacts facts;
    check_manifest(bytes.data(), bytes.size(), violations, facts);
    return violations;
}

std::string joined(const std::vector<Violation>& violations) {
    std::string text;
    for (const Violation& violation : violations)
        text += violation.rule + ": " + violation.detail + "\n";
    return text;
}

bool mentions(const std::vector<Violation>& violations, const std::string& detail) {
    for (const Violation& violation : violations) {
        if (violation.rule == rule::kManifest &&
            violation.detail.find(detail) != std::string::npos) {
            return true;
        }
    }
    return false;
}

TEST(ManifestRules, ValidManifestPassesAndReportsNameAndVersion) {
    std::vector<uint8_t> bytes(sizeof(Manifest));
    Manifest manifest = valid_manifest();
    std::memcpy(bytes.data(), &manifest, sizeof(manifest));
    std::vector<Violation> violations;
    ModuleFacts facts;
    check_manifest(bytes.data(), bytes.size(), violations, facts);
    EXPECT_TRUE(violations.empty()) << joined(violations);
    EXPECT_EQ(facts.module_name, "serial");
    EXPECT_EQ(facts.module_version, 3u);
}

TEST(ManifestRules, ShorterThanHeader) {
    auto violations = check(valid_manifest(), 79);
    EXPECT_TRUE(
        mentions(violations, "section holds 79 bytes, less than the 80-byte manifest header"))
        << joined(violations);
}

TEST(ManifestRules, HeaderSizeMismatch) {
    Manifest manifest = valid_manifest();
    manifest.header.header_size = 64;
    EXPECT_TRUE(mentions(check(manifest), "header_size is 64"));
}

TEST(ManifestRules, EntriesBeyondTheSection) {
    Manifest manifest = valid_manifest();
    manifest.header.requires_count = 40;
    auto violations = check(manifest);
    EXPECT_TRUE(mentions(violations, "the entries need")) << joined(violations);
}

TEST(ManifestRules, TwoManifestsInOneSection) {
    auto violations = check(valid_manifest(), 2 * sizeof(Manifest));
    EXPECT_TRUE(mentions(violations, "a module carries exactly one manifest"))
        << joined(violations);
}

TEST(ManifestRules, EmptyModuleNameAndZeroVersion) {
    Manifest manifest = valid_manifest();
    manifest.header.name[0] = '\0';
    manifest.header.module_version = 0;
    auto violations = check(manifest);
    EXPECT_TRUE(mentions(violations, "module name is empty")) << joined(violations);
    EXPECT_TRUE(mentions(violations, "module version is 0")) << joined(violations);
}

TEST(ManifestRules, UnknownTransportBits) {
    Manifest manifest = valid_manifest();
    manifest.header.transport_mask = 0x9;
    EXPECT_TRUE(mentions(check(manifest), "transport mask 0x00000009"));
}

TEST(ManifestRules, ReservedFieldsMustBeZero) {
    Manifest manifest = valid_manifest();
    manifest.header.reserved0 = 1;
    EXPECT_TRUE(mentions(check(manifest), "reserved header fields are not zero"));
}

TEST(ManifestRules, WatchdogLimitHasAMaximum) {
    Manifest manifest = valid_manifest();
    manifest.header.watchdog_ms = 60'000;
    EXPECT_TRUE(check(manifest).empty());
    manifest.header.watchdog_ms = 60'001;
    EXPECT_TRUE(mentions(check(manifest), "watchdog limit 60001 ms is over 60000 ms"));
}

TEST(ManifestRules, InterfaceProblemsNameTheEntry) {
    Manifest manifest = valid_manifest();
    manifest.interfaces[1].version = 0;
    manifest.interfaces[0].transport_mask = 0x10;
    std::memset(manifest.interfaces[1].package, 'p', UMKA_KABI_NAME_SIZE);
    auto violations = check(manifest);
    EXPECT_TRUE(mentions(violations, "requires[0] package is not NUL-terminated"))
        << joined(violations);
    EXPECT_TRUE(mentions(violations, "requires[0] (.Log) has version 0")) << joined(violations);
    EXPECT_TRUE(
        mentions(violations, "provides[0] (char_device.CharDevice) has unknown transport bits"))
        << joined(violations);
}

TEST(ManifestRules, InterfaceTierRange) {
    Manifest manifest = valid_manifest();
    manifest.interfaces[0].min_tier = 2;
    manifest.interfaces[0].max_tier = 1;
    EXPECT_TRUE(mentions(check(manifest),
                         "provides[0] (char_device.CharDevice) has min_tier 2 above max_tier 1"));
}

TEST(ManifestRules, StateProblemsNameTheEntry) {
    Manifest manifest = valid_manifest();
    manifest.states[0].version = 0;
    EXPECT_TRUE(mentions(check(manifest), "states[0] (SerialState) has version 0"));
    manifest.states[0].name[0] = '\0';
    EXPECT_TRUE(mentions(check(manifest), "states[0] name is empty"));
}

}  // namespace
}  // namespace umka::tools
