// ACPI parsing against table bytes captured from QEMU (pc and q35 machines, SeaBIOS).
#include "nucleus/acpi/acpi_tables.h"

#include "nucleus/acpi/mcfg.h"

#include <gtest/gtest.h>

#include <vector>

#include "nucleus/interrupts/legacy_routing.h"
#include "test/host/acpi_capture.h"

namespace umka::acpi {
namespace {

using testing::load_acpi_capture;

std::string data(const char* name) {
    return std::string(UMKA_TEST_DATA) + "/acpi/" + name;
}

void collect_processor(void* context, const Processor& processor) {
    static_cast<std::vector<Processor>*>(context)->push_back(processor);
}
void collect_controller(void* context, const IoController& controller) {
    static_cast<std::vector<IoController>*>(context)->push_back(controller);
}

TEST(AcpiTablesTest, QemuFourCpusFromTheMadt) {
    auto capture = load_acpi_capture(data("qemu-pc-smp4.txt"));
    Summary summary;
    const char* warning = nullptr;
    ASSERT_TRUE(parse(capture.memory.view(), capture.rsdp, summary, &warning).is_ok());
    EXPECT_EQ(warning, nullptr) << warning;
    EXPECT_EQ(summary.root_kind, RootTableKind::Rsdt);  // SeaBIOS publishes ACPI 1.0 RSDP
    EXPECT_EQ(summary.table_count, 4u);                 // FACP APIC HPET WAET
    EXPECT_EQ(summary.processor_count, 4u);
    EXPECT_EQ(summary.enabled_processor_count, 4u);
    EXPECT_EQ(summary.io_controller_count, 1u);
    EXPECT_EQ(summary.local_controller_address, 0xFEE00000u);
    EXPECT_TRUE(summary.legacy_pics_present);
    EXPECT_GE(summary.interrupt_override_count, 1u);

    std::vector<Processor> processors;
    for_each_processor(capture.memory.view(), summary, collect_processor, &processors);
    ASSERT_EQ(processors.size(), 4u);
    for (uint32_t index = 0; index < 4; ++index) {
        EXPECT_EQ(processors[index].hardware_id, index);
        EXPECT_EQ(processors[index].state, ProcessorState::Enabled);
    }
    std::vector<IoController> controllers;
    for_each_io_controller(capture.memory.view(), summary, collect_controller, &controllers);
    ASSERT_EQ(controllers.size(), 1u);
    EXPECT_EQ(controllers[0].address, 0xFEC00000u);
    EXPECT_EQ(controllers[0].interrupt_base, 0u);
}

void collect_override(void* context, const InterruptOverride& entry) {
    static_cast<std::vector<InterruptOverride>*>(context)->push_back(entry);
}

// QEMU's pc and q35 MADTs: the timer (IRQ 0) on line 2, the PCI-routed IRQs 5, 9, 10 and 11
// level-triggered active high; COM1's IRQ 4 has no override, so it is line 4, edge, high.
TEST(AcpiTablesTest, QemuInterruptOverridesRouteIsaIrqs) {
    for (const char* name : {"qemu-pc-smp4.txt", "qemu-q35-smp2.txt"}) {
        SCOPED_TRACE(name);
        auto capture = load_acpi_capture(data(name));
        Summary summary;
        const char* warning = nullptr;
        ASSERT_TRUE(parse(capture.memory.view(), capture.rsdp, summary, &warning).is_ok());
        std::vector<InterruptOverride> overrides;
        for_each_interrupt_override(capture.memory.view(), summary, collect_override, &overrides);
        ASSERT_EQ(overrides.size(), summary.interrupt_override_count);
        interrupts::LegacyRoute timer =
            interrupts::route_isa_irq(0, overrides.data(), overrides.size());
        EXPECT_EQ(timer.line, 2u);
        EXPECT_EQ(timer.trigger, arch::LineTrigger::Edge);
        interrupts::LegacyRoute serial =
            interrupts::route_isa_irq(4, overrides.data(), overrides.size());
        EXPECT_EQ(serial.line, 4u);
        EXPECT_EQ(serial.polarity, arch::LinePolarity::ActiveHigh);
        EXPECT_EQ(serial.trigger, arch::LineTrigger::Edge);
        interrupts::LegacyRoute pci =
            interrupts::route_isa_irq(10, overrides.data(), overrides.size());
        EXPECT_EQ(pci.line, 10u);
        EXPECT_EQ(pci.trigger, arch::LineTrigger::Level);
        EXPECT_EQ(pci.polarity, arch::LinePolarity::ActiveHigh);
    }
}

TEST(AcpiTablesTest, OverrideFlagsGivePolarityAndTrigger) {
    const InterruptOverride overrides[] = {{0, 3, 19, 0x000F}, {1, 4, 20, 0x000F}};
    interrupts::LegacyRoute low_level = interrupts::route_isa_irq(3, overrides, 2);
    EXPECT_EQ(low_level.line, 19u);
    EXPECT_EQ(low_level.polarity, arch::LinePolarity::ActiveLow);
    EXPECT_EQ(low_level.trigger, arch::LineTrigger::Level);
    // An override for another bus is not ISA's.
    EXPECT_EQ(interrupts::route_isa_irq(4, overrides, 2).line, 4u);
}

TEST(AcpiTablesTest, QemuPiix4PowerManagementFromFadtAndDsdt) {
    auto capture = load_acpi_capture(data("qemu-pc-smp1.txt"));
    Summary summary;
    const char* warning = nullptr;
    ASSERT_TRUE(parse(capture.memory.view(), capture.rsdp, summary, &warning).is_ok());
    EXPECT_EQ(summary.processor_count, 1u);
    // QEMU's PIIX4 power-management block sits at I/O port 0x600.
    EXPECT_EQ(summary.pm1a_control_port, 0x604u);
    EXPECT_EQ(summary.pm_timer_port, 0x608u);
    EXPECT_EQ(summary.pm_timer_width, PmTimerWidth::Bits24);
    EXPECT_NE(summary.dsdt_physical, 0u);
    EXPECT_EQ(summary.power_off, PowerOffMethod::SleepControlPm1);
    EXPECT_EQ(summary.s5_sleep_type_a, 0u);
}

TEST(AcpiTablesTest, FindTableBySignature) {
    auto capture = load_acpi_capture(data("qemu-pc-smp4.txt"));
    EXPECT_NE(find_table(capture.memory.view(), capture.rsdp, "HPET"), 0u);
    EXPECT_EQ(find_table(capture.memory.view(), capture.rsdp, "MCFG"), 0u);
}

TEST(AcpiTablesTest, NoRsdpIsReportedNotFatal) {
    testing::FakePhysicalMemory memory;
    Summary summary;
    const char* warning = nullptr;
    EXPECT_EQ(parse(memory.view(), 0, summary, &warning).error(), Errno::NoDevice);
    EXPECT_STREQ(warning, "acpi: firmware gave no RSDP");
}

TEST(AcpiTablesTest, CorruptRsdpChecksumIsRejected) {
    auto capture = load_acpi_capture(data("qemu-pc-smp4.txt"));
    capture.memory.writable(capture.rsdp, 20)[8] ^= 0x55;
    Summary summary;
    const char* warning = nullptr;
    EXPECT_EQ(parse(capture.memory.view(), capture.rsdp, summary, &warning).error(),
              Errno::BadMessage);
    EXPECT_STREQ(warning, "acpi: RSDP checksum is wrong");
}

TEST(AcpiTablesTest, CorruptMadtIsSkippedAndNamed) {
    auto capture = load_acpi_capture(data("qemu-pc-smp4.txt"));
    uint64_t madt = find_table(capture.memory.view(), capture.rsdp, "APIC");
    ASSERT_NE(madt, 0u);
    capture.memory.writable(madt, 64)[50] ^= 0xFF;  // inside the processor entries
    Summary summary;
    const char* warning = nullptr;
    ASSERT_TRUE(parse(capture.memory.view(), capture.rsdp, summary, &warning).is_ok());
    EXPECT_EQ(summary.bad_checksums, 1u);
    EXPECT_EQ(summary.madt_physical, 0u);
    EXPECT_EQ(summary.processor_count, 0u);
    EXPECT_STREQ(warning, "acpi: a table has a wrong checksum and was skipped");
    EXPECT_EQ(summary.power_off, PowerOffMethod::SleepControlPm1);  // the FADT still works
}

// q35 describes its PCIe configuration space (ECAM) in an MCFG; pc has none.
TEST(AcpiTablesTest, QemuQ35EcamFromTheMcfg) {
    auto capture = load_acpi_capture(data("qemu-q35-smp2.txt"));
    Summary summary;
    const char* warning = nullptr;
    ASSERT_TRUE(parse(capture.memory.view(), capture.rsdp, summary, &warning).is_ok());
    EXPECT_EQ(summary.enabled_processor_count, 2u);
    ASSERT_NE(summary.mcfg_physical, 0u);
    EcamRegions regions;
    ASSERT_TRUE(read_mcfg(capture.memory.view(), summary, regions, &warning).is_ok());
    EXPECT_EQ(warning, nullptr);
    ASSERT_EQ(regions.count, 1u);
    EXPECT_EQ(regions.regions[0].segment, 0);
    EXPECT_EQ(regions.regions[0].first_bus, 0);
    EXPECT_EQ(regions.regions[0].last_bus, 255);
    EXPECT_EQ(regions.regions[0].base, 0xB0000000u);  // QEMU's q35 MCH default
    EXPECT_EQ(regions.regions[0].length(), 256u << 20);
    EXPECT_EQ(regions.regions[0].bus_base(1), 0xB0100000u);

    auto pc = load_acpi_capture(data("qemu-pc-smp1.txt"));
    Summary pc_summary;
    ASSERT_TRUE(parse(pc.memory.view(), pc.rsdp, pc_summary, &warning).is_ok());
    EXPECT_EQ(pc_summary.mcfg_physical, 0u);
    ASSERT_TRUE(read_mcfg(pc.memory.view(), pc_summary, regions, &warning).is_ok());
    EXPECT_EQ(regions.count, 0u);
}

// Firmware bytes: each malformed entry is refused and named, the good ones kept.
TEST(AcpiTablesTest, MalformedMcfgEntriesAreRefused) {
    auto capture = load_acpi_capture(data("qemu-q35-smp2.txt"));
    Summary summary;
    const char* warning = nullptr;
    ASSERT_TRUE(parse(capture.memory.view(), capture.rsdp, summary, &warning).is_ok());
    uint8_t* entry = capture.memory.writable(summary.mcfg_physical + 44, 16);
    struct Case {
        uint64_t base;
        uint8_t first, last;
        const char* warning;
    } cases[] = {{0, 0, 255, "acpi: MCFG entry with base 0 refused"},
                 {0xB0080000, 0, 255, "acpi: MCFG entry base not 1 MiB aligned"},
                 {0xB0000000, 9, 8, "acpi: MCFG entry with first bus past last bus"},
                 {0xFFFFFFFFFFF00000ull, 0, 255, "acpi: MCFG entry wraps the address space"}};
    for (const Case& bad : cases) {
        std::memcpy(entry, &bad.base, 8);
        entry[10] = bad.first;
        entry[11] = bad.last;
        EcamRegions regions;
        ASSERT_TRUE(read_mcfg(capture.memory.view(), summary, regions, &warning).is_ok());
        EXPECT_EQ(regions.count, 0u);
        EXPECT_EQ(regions.refused, 1u);
        EXPECT_STREQ(warning, bad.warning);
    }
}

TEST(AcpiTablesTest, S5PackageForms) {
    // Name(\_S5, Package(4){0x05, One, Zero, Zero}) with a root prefix and byte prefix.
    const uint8_t with_prefix[] = {0x10, 0x08, '\\', '_',  'S',  '5',  '_', 0x12,
                                   0x08, 0x04, 0x0A, 0x05, 0x01, 0x00, 0x00};
    uint8_t a = 99, b = 99;
    ASSERT_TRUE(find_s5_sleep_types(with_prefix, sizeof with_prefix, a, b));
    EXPECT_EQ(a, 5u);
    EXPECT_EQ(b, 1u);
    // The name used as a reference, not a definition, does not count.
    const uint8_t reference_only[] = {0x70, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x00, 0x00};
    EXPECT_FALSE(find_s5_sleep_types(reference_only, sizeof reference_only, a, b));
    const uint8_t absent[] = {0x08, '_', 'S', '4', '_', 0x12, 0x04, 0x02, 0x00, 0x00};
    EXPECT_FALSE(find_s5_sleep_types(absent, sizeof absent, a, b));
}

}  // namespace
}  // namespace umka::acpi
