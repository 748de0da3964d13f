// boot_info_from_uefi: the UEFI memory map and handoff fields as the nucleus sees them.
#include "arch/x86_64/boot/uefi_boot_info.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace umka::arch {
namespace {

constexpr uint64_t kPage = 4096;

struct Descriptor {
    uint32_t type;
    uint64_t base;
    uint64_t pages;
};

// Builds a memory map the way firmware lays it out: descriptors `stride` bytes apart,
// with the bytes past the version-1 fields filled with garbage a wrong stride would read.
class MapBuilder {
public:
    explicit MapBuilder(uint64_t stride = 48) : stride_(stride) {}

    MapBuilder& add(uint32_t type, uint64_t base, uint64_t pages) {
        size_t offset = bytes_.size();
        bytes_.resize(offset + stride_, 0xa5);
        UmkaEfiMemoryDescriptor descriptor{};
        descriptor.type = type;
        descriptor.physical_start = base;
        descriptor.virtual_start = 0;
        descriptor.number_of_pages = pages;
        descriptor.attribute = 0xf;  // UC | WC | WT | WB
        // A stride below 40 (only in rejection tests) keeps what fits.
        std::memcpy(bytes_.data() + offset, &descriptor,
                    std::min<size_t>(stride_, sizeof(descriptor)));
        return *this;
    }

    UmkaUefiHandoff handoff() const {
        UmkaUefiHandoff handoff{};
        handoff.magic = UMKA_UEFI_HANDOFF_MAGIC;
        handoff.version = UMKA_UEFI_HANDOFF_VERSION;
        handoff.memory_map_physical = 0x1000;
        handoff.memory_map_size = bytes_.size();
        handoff.descriptor_size = stride_;
        handoff.descriptor_version = 1;
        return handoff;
    }

    const void* data() const { return bytes_.data(); }

private:
    uint64_t stride_;
    std::vector<uint8_t> bytes_;
};

// BootInfo is several KiB; keep it off the test's stack.
std::unique_ptr<BootInfo> fresh_boot_info() {
    return std::make_unique<BootInfo>();
}

void expect_region(const BootInfo& info, uint32_t index, uint64_t base, uint64_t length,
                   MemoryRegionKind kind) {
    ASSERT_LT(index, info.region_count);
    EXPECT_EQ(info.regions[index].base, base) << "region " << index;
    EXPECT_EQ(info.regions[index].length, length) << "region " << index;
    EXPECT_EQ(info.regions[index].kind, kind) << "region " << index;
}

TEST(UefiMemoryKind, MapsEveryDefinedType) {
    EXPECT_EQ(uefi_memory_region_kind(0), MemoryRegionKind::Reserved);  // Reserved
    EXPECT_EQ(uefi_memory_region_kind(1), MemoryRegionKind::Usable);    // LoaderCode
    EXPECT_EQ(uefi_memory_region_kind(2), MemoryRegionKind::Usable);    // LoaderData
    EXPECT_EQ(uefi_memory_region_kind(3), MemoryRegionKind::Usable);    // BootServicesCode
    EXPECT_EQ(uefi_memory_region_kind(4), MemoryRegionKind::Usable);    // BootServicesData
    EXPECT_EQ(uefi_memory_region_kind(5), MemoryRegionKind::Reserved);  // RuntimeServicesCode
    EXPECT_EQ(uefi_memory_region_kind(6), MemoryRegionKind::Reserved);  // RuntimeServicesData
    EXPECT_EQ(uefi_memory_region_kind(7), MemoryRegionKind::Usable);    // Conventional
    EXPECT_EQ(uefi_memory_region_kind(8), MemoryRegionKind::Bad);       // Unusable
    EXPECT_EQ(uefi_memory_region_kind(9), MemoryRegionKind::AcpiReclaimable);
    EXPECT_EQ(uefi_memory_region_kind(10), MemoryRegionKind::AcpiNvs);
    EXPECT_EQ(uefi_memory_region_kind(11), MemoryRegionKind::Reserved);  // MMIO
    EXPECT_EQ(uefi_memory_region_kind(12), MemoryRegionKind::Reserved);  // MMIO port space
    EXPECT_EQ(uefi_memory_region_kind(13), MemoryRegionKind::Reserved);  // PAL code
    EXPECT_EQ(uefi_memory_region_kind(14), MemoryRegionKind::Reserved);  // Persistent
    EXPECT_EQ(uefi_memory_region_kind(15), MemoryRegionKind::Reserved);  // Unaccepted
}

TEST(UefiMemoryKind, UnknownAndVendorTypesAreReserved) {
    EXPECT_EQ(uefi_memory_region_kind(16), MemoryRegionKind::Reserved);
    EXPECT_EQ(uefi_memory_region_kind(0x70000000), MemoryRegionKind::Reserved);
    EXPECT_EQ(uefi_memory_region_kind(0x80000000), MemoryRegionKind::Reserved);
    EXPECT_EQ(uefi_memory_region_kind(0xffffffff), MemoryRegionKind::Reserved);
}

TEST(UefiBootInfo, ConvertsEachKindIntoItsOwnRegion) {
    MapBuilder map;
    map.add(7, 0x0, 0xa0)         // conventional
        .add(0, 0xa0000, 0x60)    // reserved (legacy VGA/BIOS hole)
        .add(8, 0x100000, 1)      // unusable
        .add(9, 0x101000, 2)      // ACPI reclaim
        .add(10, 0x103000, 3)     // ACPI NVS
        .add(11, 0xfec00000, 1);  // MMIO
    auto info = fresh_boot_info();
    const char* reason = nullptr;
    ASSERT_TRUE(boot_info_from_uefi(map.handoff(), map.data(), *info, &reason).is_ok()) << reason;
    ASSERT_EQ(info->region_count, 6u);
    expect_region(*info, 0, 0x0, 0xa0 * kPage, MemoryRegionKind::Usable);
    expect_region(*info, 1, 0xa0000, 0x60 * kPage, MemoryRegionKind::Reserved);
    expect_region(*info, 2, 0x100000, kPage, MemoryRegionKind::Bad);
    expect_region(*info, 3, 0x101000, 2 * kPage, MemoryRegionKind::AcpiReclaimable);
    expect_region(*info, 4, 0x103000, 3 * kPage, MemoryRegionKind::AcpiNvs);
    expect_region(*info, 5, 0xfec00000, kPage, MemoryRegionKind::Reserved);
    EXPECT_EQ(info->regions_dropped, 0u);
    EXPECT_STREQ(info->boot_protocol, "uefi");
}

TEST(UefiBootInfo, MergesAdjacentDescriptorsOfTheSameResultingKind) {
    MapBuilder map;
    map.add(7, 0x100000, 16)   // conventional
        .add(2, 0x110000, 4)   // loader data: also usable, adjacent
        .add(4, 0x114000, 4)   // boot services data: usable, adjacent
        .add(3, 0x118000, 4)   // boot services code
        .add(5, 0x11c000, 1)   // runtime code: reserved, breaks the run
        .add(6, 0x11d000, 1)   // runtime data: reserved, merges with the previous
        .add(7, 0x11e000, 2)   // conventional again
        .add(7, 0x200000, 2);  // conventional but not adjacent: a separate region
    auto info = fresh_boot_info();
    ASSERT_TRUE(boot_info_from_uefi(map.handoff(), map.data(), *info).is_ok());
    ASSERT_EQ(info->region_count, 4u);
    expect_region(*info, 0, 0x100000, 28 * kPage, MemoryRegionKind::Usable);
    expect_region(*info, 1, 0x11c000, 2 * kPage, MemoryRegionKind::Reserved);
    expect_region(*info, 2, 0x11e000, 2 * kPage, MemoryRegionKind::Usable);
    expect_region(*info, 3, 0x200000, 2 * kPage, MemoryRegionKind::Usable);
}

TEST(UefiBootInfo, SortsAndMergesAnOutOfOrderMap) {
    MapBuilder map;
    map.add(7, 0x300000, 1).add(7, 0x100000, 1).add(4, 0x101000, 1).add(9, 0x200000, 1);
    auto info = fresh_boot_info();
    ASSERT_TRUE(boot_info_from_uefi(map.handoff(), map.data(), *info).is_ok());
    ASSERT_EQ(info->region_count, 3u);
    expect_region(*info, 0, 0x100000, 2 * kPage, MemoryRegionKind::Usable);
    expect_region(*info, 1, 0x200000, kPage, MemoryRegionKind::AcpiReclaimable);
    expect_region(*info, 2, 0x300000, kPage, MemoryRegionKind::Usable);
}

TEST(UefiBootInfo, SkipsEmptyDescriptors) {
    MapBuilder map;
    map.add(7, 0x100000, 1).add(0, 0x101000, 0).add(7, 0x101000, 1);
    auto info = fresh_boot_info();
    ASSERT_TRUE(boot_info_from_uefi(map.handoff(), map.data(), *info).is_ok());
    ASSERT_EQ(info->region_count, 1u);
    expect_region(*info, 0, 0x100000, 2 * kPage, MemoryRegionKind::Usable);
}

// OVMF reports 48-byte descriptors; others may use more. The garbage past the first 40
// bytes of each slot must never be read as a descriptor.
class UefiBootInfoStride : public ::testing::TestWithParam<uint64_t> {};

TEST_P(UefiBootInfoStride, WalksDescriptorsAtTheReportedStride) {
    MapBuilder map(GetParam());
    map.add(7, 0x0, 0x9f).add(0, 0x9f000, 1).add(9, 0x100000, 3).add(7, 0x200000, 0x100);
    auto info = fresh_boot_info();
    const char* reason = nullptr;
    ASSERT_TRUE(boot_info_from_uefi(map.handoff(), map.data(), *info, &reason).is_ok()) << reason;
    ASSERT_EQ(info->region_count, 4u);
    expect_region(*info, 0, 0x0, 0x9f * kPage, MemoryRegionKind::Usable);
    expect_region(*info, 1, 0x9f000, kPage, MemoryRegionKind::Reserved);
    expect_region(*info, 2, 0x100000, 3 * kPage, MemoryRegionKind::AcpiReclaimable);
    expect_region(*info, 3, 0x200000, 0x100 * kPage, MemoryRegionKind::Usable);
}

INSTANTIATE_TEST_SUITE_P(Strides, UefiBootInfoStride, ::testing::Values(40u, 48u, 64u, 136u));

TEST(UefiBootInfo, CopiesTheScalarFields) {
    MapBuilder map;
    map.add(7, 0x100000, 1);
    UmkaUefiHandoff handoff = map.handoff();
    handoff.acpi_rsdp_physical = 0x1f77d014;
    handoff.bundle_physical = 0x1e52f000;
    handoff.bundle_size = 3006;
    std::strcpy(handoff.command_line, "console=serial verbose");
    auto info = fresh_boot_info();
    ASSERT_TRUE(boot_info_from_uefi(handoff, map.data(), *info).is_ok());
    EXPECT_EQ(info->acpi_rsdp_physical, 0x1f77d014u);
    EXPECT_EQ(info->bundle_physical, 0x1e52f000u);
    EXPECT_EQ(info->bundle_size, 3006u);
    EXPECT_STREQ(info->command_line, "console=serial verbose");
    EXPECT_STREQ(info->boot_protocol, "uefi");
}

TEST(UefiBootInfo, ReplacesRegionsLeftFromAnEarlierFill) {
    MapBuilder map;
    map.add(7, 0x100000, 1);
    auto info = fresh_boot_info();
    info->add_region(0x5000, kPage, MemoryRegionKind::Bad);
    info->regions_dropped = 3;
    ASSERT_TRUE(boot_info_from_uefi(map.handoff(), map.data(), *info).is_ok());
    ASSERT_EQ(info->region_count, 1u);
    EXPECT_EQ(info->regions_dropped, 0u);
    expect_region(*info, 0, 0x100000, kPage, MemoryRegionKind::Usable);
}

TEST(UefiBootInfo, TruncatesAnUnterminatedCommandLine) {
    MapBuilder map;
    map.add(7, 0x100000, 1);
    UmkaUefiHandoff handoff = map.handoff();
    std::memset(handoff.command_line, 'x', sizeof(handoff.command_line));
    auto info = fresh_boot_info();
    std::memset(info->command_line, '?', sizeof(info->command_line));
    ASSERT_TRUE(boot_info_from_uefi(handoff, map.data(), *info).is_ok());
    EXPECT_EQ(std::string(info->command_line), std::string(kBootCommandLineCapacity - 1, 'x'));
    EXPECT_EQ(info->command_line[kBootCommandLineCapacity - 1], '\0');
}

TEST(UefiBootInfo, EmptyCommandLineStaysEmpty) {
    MapBuilder map;
    map.add(7, 0x100000, 1);
    auto info = fresh_boot_info();
    std::strcpy(info->command_line, "stale");
    ASSERT_TRUE(boot_info_from_uefi(map.handoff(), map.data(), *info).is_ok());
    EXPECT_STREQ(info->command_line, "");
}

TEST(UefiBootInfo, OverflowingCapacityDropsRegionsWithoutFailing) {
    MapBuilder map;
    const uint32_t total = kBootMemoryRegionCapacity + 44;
    // A gap between every descriptor keeps them from merging.
    for (uint32_t index = 0; index < total; ++index) map.add(7, uint64_t{index} * 2 * kPage, 1);
    auto info = fresh_boot_info();
    ASSERT_TRUE(boot_info_from_uefi(map.handoff(), map.data(), *info).is_ok());
    EXPECT_EQ(info->region_count, kBootMemoryRegionCapacity);
    EXPECT_EQ(info->regions_dropped, 44u);
    expect_region(*info, kBootMemoryRegionCapacity - 1, (kBootMemoryRegionCapacity - 1) * 2 * kPage,
                  kPage, MemoryRegionKind::Usable);
}

TEST(UefiBootInfo, MergingKeepsALongMapInsideCapacity) {
    MapBuilder map;
    // Alternating loader/conventional descriptors all become one Usable run.
    for (uint32_t index = 0; index < 1000; ++index) map.add(index % 2 ? 2 : 7, index * kPage, 1);
    auto info = fresh_boot_info();
    ASSERT_TRUE(boot_info_from_uefi(map.handoff(), map.data(), *info).is_ok());
    ASSERT_EQ(info->region_count, 1u);
    EXPECT_EQ(info->regions_dropped, 0u);
    expect_region(*info, 0, 0, 1000 * kPage, MemoryRegionKind::Usable);
}

// Every rejection: EINVAL, a reason, and the caller's BootInfo left alone.
void expect_rejected(const UmkaUefiHandoff& handoff, const void* map, const char* reason_part) {
    auto info = fresh_boot_info();
    info->add_region(0x1000, kPage, MemoryRegionKind::Bad);
    const char* reason = nullptr;
    Status status = boot_info_from_uefi(handoff, map, *info, &reason);
    EXPECT_EQ(status.error(), Errno::InvalidArgument);
    ASSERT_NE(reason, nullptr);
    EXPECT_NE(std::string(reason).find(reason_part), std::string::npos) << reason;
    EXPECT_EQ(info->region_count, 1u);
    EXPECT_STREQ(info->boot_protocol, "");
    // Without a reason pointer the same input is still rejected.
    EXPECT_EQ(boot_info_from_uefi(handoff, map, *info).error(), Errno::InvalidArgument);
}

TEST(UefiBootInfoRejects, WrongMagic) {
    MapBuilder map;
    map.add(7, 0, 1);
    UmkaUefiHandoff handoff = map.handoff();
    handoff.magic ^= 1;
    expect_rejected(handoff, map.data(), "magic");
}

TEST(UefiBootInfoRejects, WrongVersion) {
    MapBuilder map;
    map.add(7, 0, 1);
    UmkaUefiHandoff handoff = map.handoff();
    handoff.version = UMKA_UEFI_HANDOFF_VERSION + 1;
    expect_rejected(handoff, map.data(), "version");
}

TEST(UefiBootInfoRejects, DescriptorSizeBelowForty) {
    MapBuilder map(32);
    map.add(7, 0, 1);  // only the first 32 bytes of the descriptor fit; never read
    UmkaUefiHandoff handoff = map.handoff();
    expect_rejected(handoff, map.data(), "below 40");
    handoff.descriptor_size = 0;
    expect_rejected(handoff, map.data(), "below 40");
}

TEST(UefiBootInfoRejects, DescriptorSizeNotAMultipleOfEight) {
    MapBuilder map(44);
    map.add(7, 0, 1).add(7, 0x1000, 1);
    expect_rejected(map.handoff(), map.data(), "multiple of 8");
}

TEST(UefiBootInfoRejects, MapSizeNotAMultipleOfDescriptorSize) {
    MapBuilder map;
    map.add(7, 0, 1).add(7, 0x1000, 1);
    UmkaUefiHandoff handoff = map.handoff();
    handoff.memory_map_size -= 8;
    expect_rejected(handoff, map.data(), "not a multiple of the descriptor size");
}

TEST(UefiBootInfoRejects, EmptyMap) {
    MapBuilder map;
    map.add(7, 0, 1);
    UmkaUefiHandoff handoff = map.handoff();
    handoff.memory_map_size = 0;
    expect_rejected(handoff, map.data(), "empty");
}

TEST(UefiBootInfoRejects, NullMap) {
    MapBuilder map;
    map.add(7, 0, 1);
    expect_rejected(map.handoff(), nullptr, "null");
}

TEST(UefiBootInfoRejects, DescriptorThatWrapsAround) {
    MapBuilder map;
    map.add(7, 0, 1).add(7, 0xfffffffffffff000ull, 2);
    expect_rejected(map.handoff(), map.data(), "wraps");
}

TEST(UefiBootInfoRejects, BundleSizeWithoutAddress) {
    MapBuilder map;
    map.add(7, 0, 1);
    UmkaUefiHandoff handoff = map.handoff();
    handoff.bundle_size = 4096;
    expect_rejected(handoff, map.data(), "bundle");
}

TEST(UefiBootInfo, DescriptorEndingJustBelowTheTopOfTheAddressSpaceIsAccepted) {
    MapBuilder map;
    map.add(11, 0xffffffffffffe000ull, 1);
    auto info = fresh_boot_info();
    ASSERT_TRUE(boot_info_from_uefi(map.handoff(), map.data(), *info).is_ok());
    expect_region(*info, 0, 0xffffffffffffe000ull, kPage, MemoryRegionKind::Reserved);
}

// MemoryRegion::end() of a range reaching 2^64 would wrap to 0.
TEST(UefiBootInfoRejects, DescriptorReachingTwoToTheSixtyFour) {
    MapBuilder map;
    map.add(11, 0xfffffffffffff000ull, 1);
    expect_rejected(map.handoff(), map.data(), "wraps");
}

}  // namespace
}  // namespace umka::arch
