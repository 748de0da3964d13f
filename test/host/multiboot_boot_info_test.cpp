#include "arch/x86_64/boot/multiboot_boot_info.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "test/host/physical_memory_fake.h"

namespace umka::arch {
namespace {

using testing::FakePhysicalMemory;

struct MultibootFixture {
    FakePhysicalMemory memory;
    MultibootInfo info{};
    std::vector<uint8_t> map;

    void add_entry(uint64_t base, uint64_t length, uint32_t type, uint32_t size = 20) {
        MultibootMemoryMapEntry entry{size, base, length, type};
        const uint8_t* bytes = reinterpret_cast<const uint8_t*>(&entry);
        map.insert(map.end(), bytes, bytes + sizeof entry);
        map.resize(map.size() + (size - 20));  // larger entries carry extra bytes
    }
    void commit() {
        info.flags |= kMultibootFlagMemoryMap;
        info.mmap_addr = 0x9000;
        info.mmap_length = uint32_t(map.size());
        memory.place(0x9000, map.data(), map.size());
        memory.place(0x8000, info);
    }
};

TEST(MultibootBootInfoTest, ConvertsTheMemoryMapKinds) {
    MultibootFixture fixture;
    fixture.add_entry(0x0, 0x9fc00, 1);
    fixture.add_entry(0x9fc00, 0x400, 2);
    fixture.add_entry(0x100000, 0x7ee0000, 1);
    fixture.add_entry(0x7fe0000, 0x20000, 3);
    fixture.add_entry(0x8000000, 0x1000, 4);
    fixture.add_entry(0x8001000, 0x1000, 5);
    fixture.commit();
    auto boot_info = std::make_unique<BootInfo>();
    const char* reason = nullptr;
    ASSERT_TRUE(
        boot_info_from_multiboot(fixture.memory.view(), 0x8000, *boot_info, &reason).is_ok());
    ASSERT_EQ(boot_info->region_count, 6u);
    EXPECT_EQ(boot_info->regions[0].kind, MemoryRegionKind::Usable);
    EXPECT_EQ(boot_info->regions[1].kind, MemoryRegionKind::Reserved);
    EXPECT_EQ(boot_info->regions[2].length, 0x7ee0000u);
    EXPECT_EQ(boot_info->regions[3].kind, MemoryRegionKind::AcpiReclaimable);
    EXPECT_EQ(boot_info->regions[4].kind, MemoryRegionKind::AcpiNvs);
    EXPECT_EQ(boot_info->regions[5].kind, MemoryRegionKind::Bad);
    EXPECT_STREQ(boot_info->boot_protocol, "multiboot1");
}

TEST(MultibootBootInfoTest, HonoursTheEntrySizeField) {
    MultibootFixture fixture;
    fixture.add_entry(0x0, 0x1000, 1, 28);
    fixture.add_entry(0x100000, 0x1000, 1, 20);
    fixture.commit();
    auto boot_info = std::make_unique<BootInfo>();
    const char* reason = nullptr;
    ASSERT_TRUE(
        boot_info_from_multiboot(fixture.memory.view(), 0x8000, *boot_info, &reason).is_ok());
    ASSERT_EQ(boot_info->region_count, 2u);
    EXPECT_EQ(boot_info->regions[1].base, 0x100000u);
}

TEST(MultibootBootInfoTest, ShortEntryIsRejectedWithAReason) {
    MultibootFixture fixture;
    fixture.add_entry(0x0, 0x1000, 1, 20);
    fixture.map[0] = 8;  // size field too small
    fixture.commit();
    auto boot_info = std::make_unique<BootInfo>();
    const char* reason = nullptr;
    EXPECT_EQ(boot_info_from_multiboot(fixture.memory.view(), 0x8000, *boot_info, &reason).error(),
              Errno::InvalidArgument);
    ASSERT_NE(reason, nullptr);
    EXPECT_NE(std::string(reason).find("shorter than 20"), std::string::npos);
}

TEST(MultibootBootInfoTest, FallsBackToMemorySizesWithoutAMap) {
    MultibootFixture fixture;
    fixture.info.flags = kMultibootFlagMemory;
    fixture.info.mem_lower = 639;
    fixture.info.mem_upper = 130048;
    fixture.memory.place(0x8000, fixture.info);
    auto boot_info = std::make_unique<BootInfo>();
    const char* reason = nullptr;
    ASSERT_TRUE(
        boot_info_from_multiboot(fixture.memory.view(), 0x8000, *boot_info, &reason).is_ok());
    ASSERT_EQ(boot_info->region_count, 2u);
    EXPECT_EQ(boot_info->regions[1].length, 130048u * 1024);
}

TEST(MultibootBootInfoTest, NoMemoryInformationAtAllIsAnError) {
    MultibootFixture fixture;
    fixture.memory.place(0x8000, fixture.info);
    auto boot_info = std::make_unique<BootInfo>();
    const char* reason = nullptr;
    EXPECT_EQ(boot_info_from_multiboot(fixture.memory.view(), 0x8000, *boot_info, &reason).error(),
              Errno::NoData);
}

TEST(MultibootBootInfoTest, ReadsCommandLineAndBundleModule) {
    MultibootFixture fixture;
    fixture.add_entry(0x100000, 0x1000000, 1);
    fixture.info.flags = kMultibootFlagCommandLine | kMultibootFlagModules;
    fixture.info.cmdline = 0x7000;
    fixture.info.mods_count = 1;
    fixture.info.mods_addr = 0x7100;
    const char command_line[] = "console=serial smp.test";
    fixture.memory.place(0x7000, command_line, sizeof command_line);
    MultibootModule module{0x200000, 0x200400, 0, 0};
    fixture.memory.place(0x7100, module);
    fixture.commit();
    auto boot_info = std::make_unique<BootInfo>();
    const char* reason = nullptr;
    ASSERT_TRUE(
        boot_info_from_multiboot(fixture.memory.view(), 0x8000, *boot_info, &reason).is_ok());
    EXPECT_STREQ(boot_info->command_line, "console=serial smp.test");
    EXPECT_EQ(boot_info->bundle_physical, 0x200000u);
    EXPECT_EQ(boot_info->bundle_size, 0x400u);
}

TEST(MultibootBootInfoTest, MapBeyondCapacityCountsDroppedEntries) {
    MultibootFixture fixture;
    for (size_t index = 0; index < kBootMemoryRegionCapacity + 5; ++index) {
        fixture.add_entry(index * 0x10000, 0x1000, 1);
    }
    fixture.commit();
    auto boot_info = std::make_unique<BootInfo>();
    const char* reason = nullptr;
    ASSERT_TRUE(
        boot_info_from_multiboot(fixture.memory.view(), 0x8000, *boot_info, &reason).is_ok());
    EXPECT_EQ(boot_info->region_count, kBootMemoryRegionCapacity);
    EXPECT_EQ(boot_info->regions_dropped, 5u);
}

TEST(MultibootBootInfoTest, FindsTheRsdpInTheBiosArea) {
    FakePhysicalMemory memory;
    std::vector<uint8_t> bios(0x20000, 0);
    uint8_t rsdp[20] = {'R', 'S', 'D', ' ', 'P', 'T', 'R', ' '};
    uint8_t sum = 0;
    for (uint8_t byte : rsdp) sum += byte;
    rsdp[8] = uint8_t(-sum);
    std::memcpy(bios.data() + 0xF5A0, rsdp, sizeof rsdp);
    memory.place(0xE0000, bios.data(), bios.size());
    uint16_t no_ebda = 0;
    memory.place(0x40E, no_ebda);
    EXPECT_EQ(find_rsdp_in_bios_area(memory.view()), 0xE0000u + 0xF5A0u);
    rsdp[8] ^= 1;  // a bad checksum is not an RSDP
    std::memcpy(bios.data() + 0xF5A0, rsdp, sizeof rsdp);
    memory.place(0xE0000, bios.data(), bios.size());
    EXPECT_EQ(find_rsdp_in_bios_area(memory.view()), 0u);
}

}  // namespace
}  // namespace umka::arch
