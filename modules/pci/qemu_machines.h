// Configuration-space models shaped like QEMU's machines, for the host tests: `pc`
// (i440FX, PIIX3 with IDE and ACPI, VGA, a modern virtio-blk) and `q35` (its host bridge,
// a PCIe root port with a virtio-blk behind it), with the device IDs, BAR sizes and
// capability layouts those device models declare.
#pragma once

#include <cstring>

#include "pci_model.h"

namespace umka::pci::testing {

// QEMU's modern virtio-pci layout: MSI-X table in BAR 1, the four structures in BAR 4
// (64-bit, prefetchable, 16 KiB) at 0x0000, 0x1000, 0x2000, 0x3000.
inline void add_virtio_blk(PciModel& model, uint8_t bus, uint8_t device) {
    ModelFunction& blk = model.add(bus, device, 0, 0x1AF4, 0x1042, 0x01, 0x00);
    blk.put16(0x2C, 0x1AF4);
    blk.put16(0x2E, 0x1100);
    blk.put8(0x3D, 1);  // INTA
    PciModel::memory_bar(blk, 1, 0xFEBD1000, 0x1000, false, false);
    PciModel::memory_bar(blk, 4, 0xFE000000, 0x4000, true, true);
    const uint8_t msix[] = {0x01, 0x00,               // 2 vectors, disabled
                            0x01, 0x00, 0x00, 0x00,   // table: BAR 1 offset 0
                            0x01, 0x08, 0x00, 0x00};  // pending: BAR 1 offset 0x800
    PciModel::capability(blk, 0x98, 0x11, msix, sizeof msix);
    struct {
        uint8_t offset, type;
        uint32_t bar_offset;
    } structures[] = {{0x40, 1, 0x0000}, {0x54, 3, 0x1000}, {0x68, 4, 0x2000}, {0x7C, 2, 0x3000}};
    for (auto structure : structures) {
        uint8_t length = structure.type == 2 ? 20 : 16;
        uint8_t body[18] = {length, structure.type, 4};
        uint32_t size = 0x1000;
        std::memcpy(&body[6], &structure.bar_offset, 4);
        std::memcpy(&body[10], &size, 4);
        uint32_t multiplier = 4;
        std::memcpy(&body[14], &multiplier, 4);
        PciModel::capability(blk, structure.offset, 0x09, body, sizeof body);
    }
}

inline PciModel qemu_pc() {
    PciModel model;
    model.add(0, 0, 0, 0x8086, 0x1237, 0x06, 0x00);        // i440FX host bridge
    model.add(0, 1, 0, 0x8086, 0x7000, 0x06, 0x01, 0x80);  // PIIX3 ISA, multi
    ModelFunction& ide = model.add(0, 1, 1, 0x8086, 0x7010, 0x01, 0x01);
    ide.put8(0x09, 0x80);
    PciModel::io_bar(ide, 4, 0xC040, 16);
    model.add(0, 1, 3, 0x8086, 0x7113, 0x06, 0x80);  // PIIX4 ACPI
    ModelFunction& vga = model.add(0, 2, 0, 0x1234, 0x1111, 0x03, 0x00);
    PciModel::memory_bar(vga, 0, 0xFD000000, 16 << 20, false, true);
    PciModel::memory_bar(vga, 2, 0xFEBD0000, 0x1000, false, false);
    add_virtio_blk(model, 0, 3);
    return model;
}

// q35: the MCH host bridge, a PCIe root port (bus 1 behind it) and a virtio-blk there.
inline PciModel qemu_q35() {
    PciModel model;
    model.add(0, 0, 0, 0x8086, 0x29C0, 0x06, 0x00);                              // MCH
    ModelFunction& port = model.add(0, 2, 0, 0x1B36, 0x000C, 0x06, 0x04, 0x01);  // root port
    port.put8(0x19, 1);
    port.put8(0x1A, 1);
    model.add(0, 31, 0, 0x8086, 0x2918, 0x06, 0x01, 0x80);  // ICH9 LPC, multi-function
    ModelFunction& sata = model.add(0, 31, 2, 0x8086, 0x2922, 0x01, 0x06);
    sata.put8(0x09, 0x01);
    sata.put8(0x3D, 1);
    PciModel::memory_bar(sata, 5, 0xFEBD2000, 0x1000, false, false);
    add_virtio_blk(model, 1, 0);
    return model;
}

}  // namespace umka::pci::testing
