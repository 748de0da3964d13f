// The enumeration against configuration-space models shaped like QEMU's `pc` (i440FX,
// PIIX3, VGA, a modern virtio-blk) and `q35` (a PCIe root port with a device behind it),
// with the device IDs, BAR sizes and capability layouts those machines' device models
// declare, and against malformed config space.
#include "enumeration.h"

#include <gtest/gtest.h>

#include <vector>

#include "pci_model.h"
#include "qemu_machines.h"

namespace umka::pci {
namespace {

using testing::add_virtio_blk;
using testing::ModelFunction;
using testing::PciModel;
using testing::qemu_pc;

std::vector<Function> run(PciModel& model, Enumeration* result = nullptr, uint32_t capacity = 64) {
    std::vector<Function> functions(capacity);
    Enumeration enumeration = enumerate(model, BusRange{}, functions.data(), capacity);
    functions.resize(enumeration.function_count);
    if (result != nullptr) *result = enumeration;
    return functions;
}

const Function* find(const std::vector<Function>& functions, uint8_t bus, uint8_t device,
                     uint8_t number) {
    for (const Function& function : functions) {
        if (function.address.bus == bus && function.address.device == device &&
            function.address.function == number) {
            return &function;
        }
    }
    return nullptr;
}

TEST(PciEnumeration, FindsEveryFunctionOfAQemuPcMachine) {
    PciModel model = qemu_pc();
    Enumeration result;
    std::vector<Function> functions = run(model, &result);
    ASSERT_EQ(functions.size(), 6u);
    EXPECT_EQ(result.buses_scanned, 1u);
    EXPECT_EQ(result.dropped, 0u);
    // Function 1 of the single-function devices is never read as a device of its own;
    // the multi-function PIIX3 is read at 01.1 and 01.3.
    EXPECT_NE(find(functions, 0, 1, 1), nullptr);
    EXPECT_NE(find(functions, 0, 1, 3), nullptr);
    EXPECT_EQ(find(functions, 0, 2, 1), nullptr);
    const Function& ide = *find(functions, 0, 1, 1);
    EXPECT_EQ(ide.device_id, 0x7010);
    EXPECT_EQ(ide.class_code, 0x01);
    EXPECT_EQ(ide.prog_if, 0x80);
    EXPECT_EQ(ide.bars[4].kind, BarKind::Io);
    EXPECT_EQ(ide.bars[4].base, 0xC040u);
    EXPECT_EQ(ide.bars[4].length, 16u);
    const Function& vga = *find(functions, 0, 2, 0);
    EXPECT_EQ(vga.bars[0].kind, BarKind::Memory32);
    EXPECT_TRUE(vga.bars[0].prefetchable);
    EXPECT_EQ(vga.bars[0].length, 16u << 20);
    EXPECT_EQ(vga.bars[2].length, 0x1000u);
    EXPECT_EQ(vga.bars[1].kind, BarKind::Absent);
    for (const Function& function : functions) {
        EXPECT_EQ(function.problem, Problem::None) << problem_name(function.problem);
    }
}

TEST(PciEnumeration, ReadsTheModernVirtioLayout) {
    PciModel model = qemu_pc();
    std::vector<Function> functions = run(model);
    const Function& blk = *find(functions, 0, 3, 0);
    EXPECT_EQ(blk.vendor_id, 0x1AF4);
    EXPECT_EQ(blk.device_id, 0x1042);
    EXPECT_EQ(blk.subsystem_id, 0x1100);
    EXPECT_EQ(blk.interrupt_pin, 1);
    EXPECT_EQ(blk.bars[4].kind, BarKind::Memory64);
    EXPECT_TRUE(blk.bars[4].prefetchable);
    EXPECT_EQ(blk.bars[4].base, 0xFE000000u);
    EXPECT_EQ(blk.bars[4].length, 0x4000u);
    EXPECT_EQ(blk.bars[5].kind, BarKind::Absent);  // the high half of BAR 4
    EXPECT_EQ(blk.msix.offset, 0x98);
    EXPECT_EQ(blk.msix.table_size, 2);
    EXPECT_EQ(blk.msix.table_bar, 1);
    EXPECT_EQ(blk.msix.pending_offset, 0x800u);
    EXPECT_EQ(blk.msi.offset, 0);
    ASSERT_EQ(blk.virtio_count, 4);
    // In list order (the model links them as added: MSI-X first, then these).
    EXPECT_EQ(blk.virtio[0].structure, VirtioStructure::Common);
    EXPECT_EQ(blk.virtio[1].structure, VirtioStructure::Isr);
    EXPECT_EQ(blk.virtio[1].bar_offset, 0x1000u);
    EXPECT_EQ(blk.virtio[3].structure, VirtioStructure::Notify);
    EXPECT_EQ(blk.virtio[3].bar, 4);
    EXPECT_EQ(blk.virtio[3].notify_multiplier, 4u);
    EXPECT_EQ(blk.problem, Problem::None) << problem_name(blk.problem);
}

TEST(PciEnumeration, SizingTurnsDecodingOffAndRestoresEverything) {
    PciModel model = qemu_pc();
    model.at(0, 2, 0).put16(0x04, 0x0007);  // I/O, memory, bus master on
    ModelFunction before = model.at(0, 3, 0);
    run(model);
    EXPECT_EQ(model.bar_writes_while_decoding(), 0);
    EXPECT_EQ(model.at(0, 2, 0).get32(0x04) & 0xFFFF, 0x0007u);
    EXPECT_EQ(std::memcmp(before.config, model.at(0, 3, 0).config, 256), 0);
}

TEST(PciEnumeration, WalksBehindABridgeOnceAndRefusesALoop) {
    PciModel model;
    model.add(0, 0, 0, 0x8086, 0x29C0, 0x06, 0x00);                              // q35 host bridge
    ModelFunction& port = model.add(0, 2, 0, 0x1B36, 0x000C, 0x06, 0x04, 0x01);  // root port
    port.put8(0x19, 1);
    add_virtio_blk(model, 1, 0);
    ModelFunction& looping = model.add(1, 5, 0, 0x1B36, 0x000C, 0x06, 0x04, 0x01);
    looping.put8(0x19, 0);  // back to the root bus
    Enumeration result;
    std::vector<Function> functions = run(model, &result);
    EXPECT_EQ(result.buses_scanned, 2u);
    EXPECT_EQ(result.bridges_refused, 1u);
    ASSERT_NE(find(functions, 1, 0, 0), nullptr);
    EXPECT_EQ(find(functions, 1, 0, 0)->virtio_count, 4);
    EXPECT_EQ(find(functions, 0, 2, 0)->secondary_bus, 1);
    EXPECT_EQ(find(functions, 0, 2, 0)->bar_count, 2);
}

TEST(PciEnumeration, ALoopingCapabilityListStopsWithItsProblem) {
    PciModel model;
    ModelFunction& device = model.add(0, 4, 0, 0x1AF4, 0x1042, 0x01, 0x00);
    const uint8_t body[2] = {};
    PciModel::capability(device, 0x40, 0x05, body, sizeof body);
    device.config[0x41] = 0x40;  // next points at itself
    std::vector<Function> functions = run(model);
    ASSERT_EQ(functions.size(), 1u);
    EXPECT_EQ(functions[0].problem, Problem::CapabilityLoop);
    EXPECT_EQ(functions[0].msi.offset, 0x40);
}

TEST(PciEnumeration, APointerIntoTheHeaderIsRefused) {
    PciModel model;
    ModelFunction& device = model.add(0, 4, 0, 0x8086, 0x100E, 0x02, 0x00);
    device.put16(0x06, 1u << 4);
    device.put8(0x34, 0x10);
    std::vector<Function> functions = run(model);
    EXPECT_EQ(functions[0].problem, Problem::CapabilityPointerInHeader);
    EXPECT_EQ(functions[0].problem_detail, 0x10);
}

TEST(PciEnumeration, BadBarsAreRecordedNotTrusted) {
    PciModel model;
    ModelFunction& device = model.add(0, 4, 0, 0x8086, 0x100E, 0x02, 0x00);
    PciModel::memory_bar(device, 5, 0xF0000000, 0x1000, true, false);  // no slot for the high half
    std::vector<Function> functions = run(model);
    EXPECT_EQ(functions[0].problem, Problem::Bar64InLastSlot);
    EXPECT_EQ(functions[0].problem_detail, 5);
    EXPECT_EQ(functions[0].bars[5].kind, BarKind::Absent);

    PciModel holes;
    ModelFunction& odd = holes.add(0, 4, 0, 0x8086, 0x100E, 0x02, 0x00);
    odd.put32(0x10, 0xF0000000);
    odd.bar_writable[0] = 0xFFFF0F00;  // a mask with a hole
    functions = run(holes);
    EXPECT_EQ(functions[0].problem, Problem::BarMaskNotContiguous);
}

TEST(PciEnumeration, MsixAndVirtioStructuresOutsideTheirBarAreRefused) {
    PciModel model;
    add_virtio_blk(model, 0, 3);
    ModelFunction& blk = model.at(0, 3, 0);
    blk.put16(0x98 + 2, 0x01FF);  // 512 vectors: 8 KiB of table in a 4 KiB BAR
    blk.put32(0x68 + 8, 0x3800);  // device structure at 0x3800 + 0x1000 > 16 KiB
    std::vector<Function> functions = run(model);
    EXPECT_EQ(functions[0].problem, Problem::MsixTableOutsideBar);
    EXPECT_EQ(functions[0].problem_count, 2);
    EXPECT_EQ(functions[0].virtio_count, 3);  // the bad one left out
}

TEST(PciEnumeration, ACapabilityRunningPastConfigSpaceIsRefused) {
    PciModel model;
    ModelFunction& nic = model.add(0, 4, 0, 0x8086, 0x10D3, 0x02, 0x00);
    // At 0xFC its table and pending words would be read from 0x100 and 0x104.
    nic.put32(0xFC, 0x00000011);  // MSI-X, last in the list
    nic.put8(0x34, 0xFC);
    nic.put16(0x06, 1u << 4);
    std::vector<Function> functions = run(model);
    ASSERT_EQ(functions.size(), 1u);
    EXPECT_EQ(functions[0].problem, Problem::CapabilityPastConfigEnd);
    EXPECT_EQ(functions[0].problem_detail, 0xFC);
    EXPECT_EQ(functions[0].msix.offset, 0);
}

TEST(PciEnumeration, FunctionsPastTheCapacityAreCountedNotWritten) {
    PciModel model = qemu_pc();
    Enumeration result;
    std::vector<Function> functions = run(model, &result, 4);
    EXPECT_EQ(functions.size(), 4u);
    EXPECT_EQ(result.dropped, 2u);
}

TEST(PciEnumeration, AnEmptyRangeOrAbsentBusFindsNothing) {
    PciModel model;
    Enumeration result;
    EXPECT_TRUE(run(model, &result).empty());
    EXPECT_EQ(result.buses_scanned, 1u);
    std::vector<Function> functions(4);
    result = enumerate(model, BusRange{0, 5, 4}, functions.data(), 4);
    EXPECT_EQ(result.buses_scanned, 0u);
}

}  // namespace
}  // namespace umka::pci
