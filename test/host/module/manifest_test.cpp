// ManifestView: the typed view over .kabi_manifest and every validation rule.
#include "nucleus/module/manifest.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "manifest_builder.h"
#include "umka/kabi/nucleus_manifest.hpp"
#include "umka/kabi/serial_console_manifest.hpp"
#include "umka/kabi/virtio_blk_manifest.hpp"

namespace {

using umka::Errno;
using umka::modules::Diagnostic;
using umka::modules::InterfaceEntry;
using umka::modules::ManifestView;
using umka::test::ManifestBuilder;

umka::test::ManifestBuilder console() {
    ManifestBuilder builder("console", 4);
    builder.provides("console.Shell", 2)
        .requires_("char_device.CharDevice", 1)
        .requires_("kernel_services.Log", 1)
        .state("ShellState", 3, 64);
    builder.header().transport_mask = UMKA_KABI_TRANSPORT_DIRECT | UMKA_KABI_TRANSPORT_RING;
    builder.header().max_tier = 1;
    return builder;
}

// Parses `bytes`; returns the refusal text ("" when accepted).
std::string refusal(const std::vector<uint8_t>& bytes) {
    Diagnostic diagnostic;
    auto view = ManifestView::parse(bytes.data(), bytes.size(), diagnostic);
    if (view.is_ok()) return "";
    EXPECT_EQ(view.error(), Errno::BadMessage);
    EXPECT_FALSE(diagnostic.is_empty());
    return diagnostic.text();
}

template <typename T>
void patch(std::vector<uint8_t>& bytes, size_t offset, T value) {
    std::memcpy(bytes.data() + offset, &value, sizeof(value));
}

TEST(Manifest, ReadsEveryField) {
    std::vector<uint8_t> bytes = console().build();
    Diagnostic diagnostic;
    auto parsed = ManifestView::parse(bytes.data(), bytes.size(), diagnostic);
    ASSERT_TRUE(parsed.is_ok()) << diagnostic.text();
    const ManifestView& view = parsed.value();
    EXPECT_STREQ(view.name(), "console");
    EXPECT_EQ(view.module_version(), 4u);
    EXPECT_EQ(view.transport_mask(), UMKA_KABI_TRANSPORT_DIRECT | UMKA_KABI_TRANSPORT_RING);
    EXPECT_EQ(view.min_tier(), 0);
    EXPECT_EQ(view.max_tier(), 1);
    ASSERT_EQ(view.provided_count(), 1u);
    ASSERT_EQ(view.required_count(), 2u);
    ASSERT_EQ(view.state_count(), 1u);
    EXPECT_STREQ(view.provided(0).package, "console");
    EXPECT_STREQ(view.provided(0).name, "Shell");
    EXPECT_EQ(view.provided(0).version, 2u);
    EXPECT_STREQ(view.required(0).package, "char_device");
    EXPECT_STREQ(view.required(1).name, "Log");
    EXPECT_EQ(view.state(0).version, 3u);
    EXPECT_EQ(view.state(0).size, 64u);
    EXPECT_STREQ(view.state(0).name, "ShellState");
    EXPECT_EQ(view.find_provided("console", "Shell"), 0u);
    EXPECT_EQ(view.find_provided("console", "Other"), ManifestView::kNotFound);
    char buffer[100];
    EXPECT_STREQ(umka::modules::qualified_name(view.required(0), buffer, sizeof(buffer)),
                 "char_device.CharDevice");
}

// The manifests kabi-gen generates for kabi-idl/modules/ are what the loader reads: same
// layout, accepted, every field where kabi-gen put it.
TEST(Manifest, ReadsWhatKabiGenGenerates) {
    const auto& serial = umka::kabi::serial_console::serial_console_manifest;
    Diagnostic diagnostic;
    auto parsed = ManifestView::parse(&serial, sizeof(serial), diagnostic);
    ASSERT_TRUE(parsed.is_ok()) << diagnostic.text();
    const ManifestView& view = parsed.value();
    EXPECT_STREQ(view.name(), "serial_console");
    ASSERT_EQ(view.provided_count(), 2u);
    ASSERT_EQ(view.required_count(), 3u);
    ASSERT_EQ(view.state_count(), 1u);
    EXPECT_STREQ(view.provided(0).package, "char_device");
    EXPECT_STREQ(view.provided(0).name, "CharDevice");
    EXPECT_STREQ(view.required(1).package, "bus_access");
    EXPECT_STREQ(view.required(1).name, "PortIo");
    EXPECT_STREQ(view.required(2).package, "bus_access");
    EXPECT_STREQ(view.required(2).name, "Irq");
    // transport(direct, ring): its CharDevice can be served over a ring binding.
    EXPECT_EQ(view.transport_mask(), UMKA_KABI_TRANSPORT_DIRECT | UMKA_KABI_TRANSPORT_RING);

    const auto& nucleus = umka::kabi::nucleus::nucleus_manifest;
    auto nucleus_view = ManifestView::parse(&nucleus, sizeof(nucleus), diagnostic);
    ASSERT_TRUE(nucleus_view.is_ok()) << diagnostic.text();
    EXPECT_NE(nucleus_view.value().find_provided("kernel_services", "Log"),
              ManifestView::kNotFound);
    EXPECT_NE(nucleus_view.value().find_provided("bus_access", "PortIo"), ManifestView::kNotFound);
}

TEST(Manifest, ParsesAtAnyAlignment) {
    std::vector<uint8_t> bytes = console().build();
    for (size_t shift = 1; shift < 8; ++shift) {
        std::vector<uint8_t> shifted(bytes.size() + shift);
        std::memcpy(shifted.data() + shift, bytes.data(), bytes.size());
        Diagnostic diagnostic;
        auto parsed = ManifestView::parse(shifted.data() + shift, bytes.size(), diagnostic);
        ASSERT_TRUE(parsed.is_ok()) << "shift " << shift << ": " << diagnostic.text();
        EXPECT_EQ(parsed.value().required(1).version, 1u);
    }
}

TEST(Manifest, RefusesShortInput) {
    std::vector<uint8_t> bytes = console().build();
    bytes.resize(79);
    EXPECT_EQ(refusal(bytes), "manifest is 79 bytes, shorter than its 80-byte header");
    Diagnostic diagnostic;
    EXPECT_EQ(ManifestView::parse(nullptr, 0, diagnostic).error(), Errno::BadMessage);
}

TEST(Manifest, RefusesBadHeaderFields) {
    std::vector<uint8_t> bytes = console().build();
    patch<uint32_t>(bytes, 0, 0x12345678);
    EXPECT_EQ(refusal(bytes), "manifest magic 0x12345678 is not 0x464d4b55 (\"UKMF\")");

    bytes = console().build();
    patch<uint16_t>(bytes, 4, 2);
    EXPECT_EQ(refusal(bytes), "manifest format 2 is not supported (this nucleus reads format 1)");

    bytes = console().build();
    patch<uint16_t>(bytes, 6, 96);
    EXPECT_EQ(refusal(bytes), "manifest header_size 96 is not 80 (format 1)");

    bytes = console().build();
    bytes.push_back(0);  // section one byte longer than total_size
    EXPECT_EQ(refusal(bytes), "manifest total_size 448 does not match its section size 449");

    bytes = console().build();
    patch<uint16_t>(bytes, offsetof(umka_kabi_manifest_header, provides_count), 3);
    EXPECT_EQ(refusal(bytes),
              "manifest counts (3 provides, 2 requires, 1 states, 0 matches) need 656 bytes but "
              "the manifest holds 448");

    bytes = console().build();
    patch<uint8_t>(bytes, offsetof(umka_kabi_manifest_header, reserved0), 1);
    EXPECT_EQ(refusal(bytes), "manifest header reserved fields are not zero");
}

TEST(Manifest, ReadsTheWatchdogLimitAndRefusesOneOverTheMaximum) {
    std::vector<uint8_t> bytes = console().build();
    patch<uint32_t>(bytes, offsetof(umka_kabi_manifest_header, watchdog_ms), 60'000);
    Diagnostic diagnostic;
    auto parsed = ManifestView::parse(bytes.data(), bytes.size(), diagnostic);
    ASSERT_TRUE(parsed.is_ok()) << diagnostic.text();
    EXPECT_EQ(parsed.value().watchdog_ms(), 60'000u);
    patch<uint32_t>(bytes, offsetof(umka_kabi_manifest_header, watchdog_ms), 60'001);
    EXPECT_EQ(
        refusal(bytes),
        "module 'console' asks for a watchdog limit of 60001 ms; at most 60000 ms is allowed");
}

TEST(Manifest, RefusesBadModuleNameVersionTransportTier) {
    ManifestBuilder unterminated = console();
    std::memset(unterminated.header().name, 'a', UMKA_KABI_NAME_SIZE);
    EXPECT_EQ(refusal(unterminated.build()), "module name is not NUL-terminated within 48 bytes");

    EXPECT_EQ(refusal(ManifestBuilder("bad-name").build()),
              "module name 'bad-name' is not an identifier");
    EXPECT_EQ(refusal(ManifestBuilder("").build()), "module name '' is not an identifier");
    EXPECT_EQ(refusal(ManifestBuilder("9lives").build()),
              "module name '9lives' is not an identifier");
    EXPECT_EQ(refusal(ManifestBuilder("zero", 0).build()), "module 'zero' has version 0");

    ManifestBuilder transport = console();
    transport.header().transport_mask = 0;
    EXPECT_EQ(refusal(transport.build()),
              "module transport mask 0x0 is not a non-empty subset of direct|ring|ipc (0x7)");
    transport.header().transport_mask = 0x9;
    EXPECT_EQ(refusal(transport.build()),
              "module transport mask 0x9 is not a non-empty subset of direct|ring|ipc (0x7)");

    ManifestBuilder tiers = console();
    tiers.header().min_tier = 2;
    tiers.header().max_tier = 1;
    EXPECT_EQ(refusal(tiers.build()), "module tier range 2..1 is not within 0..2");
    tiers.header().min_tier = 0;
    tiers.header().max_tier = 3;
    EXPECT_EQ(refusal(tiers.build()), "module tier range 0..3 is not within 0..2");
}

TEST(Manifest, RefusesBadInterfaceRecords) {
    EXPECT_EQ(refusal(ManifestBuilder("m").provides("pkg.Iface", 0).build()),
              "provides[0] pkg.Iface has version 0");
    EXPECT_EQ(refusal(ManifestBuilder("m").requires_("pkg.", 1).build()),
              "requires[0] interface '' is not an identifier");
    EXPECT_EQ(refusal(ManifestBuilder("m").requires_("p k g.X", 1).build()),
              "requires[0] package 'p k g' is not an identifier");

    std::vector<uint8_t> bytes = ManifestBuilder("m").provides("pkg.Iface", 1).build();
    size_t record = sizeof(umka_kabi_manifest_header);
    patch<uint8_t>(bytes, record + offsetof(umka_kabi_manifest_interface, transport_mask), 0x10);
    EXPECT_EQ(refusal(bytes),
              "provides[0] pkg.Iface transport mask 0x10 is not a non-empty subset of "
              "direct|ring|ipc (0x7)");
    bytes = ManifestBuilder("m").provides("pkg.Iface", 1).build();
    patch<uint8_t>(bytes, record + offsetof(umka_kabi_manifest_interface, reserved), 1);
    EXPECT_EQ(refusal(bytes), "provides[0] pkg.Iface reserved byte is not zero");
    bytes = ManifestBuilder("m").provides("pkg.Iface", 1).build();
    std::memset(bytes.data() + record, 'x', UMKA_KABI_NAME_SIZE);
    EXPECT_EQ(refusal(bytes), "provides[0] package is not NUL-terminated within 48 bytes");
}

TEST(Manifest, RefusesDuplicatesAndSelfRequirement) {
    EXPECT_EQ(refusal(ManifestBuilder("m").provides("a.X", 1).provides("a.X", 2).build()),
              "provides[1] a.X is listed twice in provides");
    EXPECT_EQ(refusal(ManifestBuilder("m").requires_("a.X", 1).requires_("a.X", 2).build()),
              "requires[1] a.X is listed twice in requires");
    EXPECT_EQ(refusal(ManifestBuilder("m").provides("a.X", 1).requires_("a.X", 1).build()),
              "module 'm' requires a.X, which it provides itself");
    EXPECT_EQ(refusal(ManifestBuilder("m").state("S", 1, 8).state("S", 2, 8).build()),
              "state 'S' is listed twice");
    EXPECT_EQ(refusal(ManifestBuilder("m").state("S", 0, 8).build()), "state 'S' has version 0");
    EXPECT_EQ(refusal(ManifestBuilder("m").state("S", 1, 0).build()), "state 'S' has size 0");
    EXPECT_EQ(refusal(ManifestBuilder("m").state("S-1", 1, 8).build()),
              "states[0] name 'S-1' is not an identifier");
}

TEST(Manifest, RefusesTooManyEntries) {
    ManifestBuilder many("m");
    for (int index = 0; index < 129; ++index) many.requires_("p.I" + std::to_string(index), 1);
    EXPECT_EQ(refusal(many.build()),
              "manifest lists 129 interfaces, 0 states and 0 device matches; at most 128, 16 and "
              "4 are allowed");
    ManifestBuilder five("d");
    for (uint16_t device = 0; device < 5; ++device) {
        five.match(UMKA_KABI_MATCH_VENDOR_DEVICE, 0x1af4, device);
    }
    EXPECT_EQ(refusal(five.build()),
              "manifest lists 0 interfaces, 0 states and 5 device matches; at most 128, 16 and 4 "
              "are allowed");
}

// A driver's manifest names the devices it drives; the device registry binds by it.
TEST(Manifest, ReadsDeviceMatches) {
    std::vector<uint8_t> bytes = console()
                                     .match(UMKA_KABI_MATCH_VENDOR_DEVICE, 0x1af4, 0x1042)
                                     .match(UMKA_KABI_MATCH_CLASS, 0x0100, 0)
                                     .build();
    Diagnostic diagnostic;
    auto parsed = ManifestView::parse(bytes.data(), bytes.size(), diagnostic);
    ASSERT_TRUE(parsed.is_ok()) << diagnostic.text();
    ASSERT_EQ(parsed.value().match_count(), 2u);
    umka::modules::DeviceMatch device = parsed.value().match(0);
    umka::modules::DeviceMatch storage = parsed.value().match(1);
    EXPECT_TRUE(device.fits(0x1af4, 0x1042, 0x01, 0x00));
    EXPECT_FALSE(device.fits(0x1af4, 0x1041, 0x01, 0x00));
    EXPECT_TRUE(storage.fits(0x8086, 0x2922, 0x01, 0x00));
    EXPECT_FALSE(storage.fits(0x8086, 0x2922, 0x01, 0x06));
    EXPECT_EQ(parsed.value().state_count(), 1u);  // states[] still read before matches[]

    // What kabi-gen generates from `matches pci vendor 0x1af4 device 0x1042;`.
    const auto& driver = umka::kabi::virtio_blk::virtio_blk_manifest;
    auto generated = ManifestView::parse(&driver, sizeof(driver), diagnostic);
    ASSERT_TRUE(generated.is_ok()) << diagnostic.text();
    ASSERT_EQ(generated.value().match_count(), 1u);
    EXPECT_TRUE(generated.value().match(0).fits(0x1af4, 0x1042, 0x01, 0x00));
    EXPECT_FALSE(generated.value().match(0).fits(0x1af4, 0x1001, 0x01, 0x00));
}

TEST(Manifest, RefusesBadDeviceMatches) {
    EXPECT_EQ(refusal(ManifestBuilder("d").match(UMKA_KABI_MATCH_VENDOR_DEVICE, 1, 2, 2).build()),
              "matches[0] names bus 2; only PCI (1) is known");
    EXPECT_EQ(refusal(ManifestBuilder("d").match(3, 1, 2).build()),
              "matches[0] has kind 3, neither vendor/device (1) nor class (2)");
    EXPECT_EQ(refusal(ManifestBuilder("d").match(UMKA_KABI_MATCH_CLASS, 0x0100, 7).build()),
              "matches[0] has reserved bits set");
    EXPECT_EQ(refusal(ManifestBuilder("d")
                          .match(UMKA_KABI_MATCH_VENDOR_DEVICE, 0x1af4, 0x1042)
                          .match(UMKA_KABI_MATCH_VENDOR_DEVICE, 0x1af4, 0x1042)
                          .build()),
              "matches[1] (1af4:1042) is listed twice");
}

// Every single-byte corruption of a good manifest is either accepted or refused with a
// reason; never a crash (ASan/UBSan watch the reads).
TEST(Manifest, SurvivesEverySingleByteCorruption) {
    const std::vector<uint8_t> good = console().build();
    size_t refused = 0;
    for (size_t offset = 0; offset < good.size(); ++offset) {
        for (uint8_t value : {uint8_t(0), uint8_t(0xff), uint8_t('-'), uint8_t(1)}) {
            std::vector<uint8_t> bytes = good;
            bytes[offset] = value;
            if (!refusal(bytes).empty()) ++refused;
        }
    }
    EXPECT_GT(refused, good.size() / 2);  // many corruptions matter; padding does not
}

}  // namespace
