// PciBus.set_interrupts and .program_msi: which of INTx, MSI and MSI-X a claimed function
// raises, and the message its MSI capability sends. MSI-X on is
// its Message Control enable bit with the function mask off (the nucleus programs and masks
// each table entry), and INTx off in the command register; Legacy is the reverse with MSI
// off too. The capability list is walked again here (bounded like the enumeration).
#include "config_path.h"
#include "pci_bus_driver.h"
#include "pci_config.h"

namespace umka::pci {
namespace {

constexpr uint32_t kMsixEnable = 1u << 15;
constexpr uint32_t kMsixFunctionMask = 1u << 14;
constexpr uint32_t kMsiEnable = 1u << 0;
constexpr uint32_t kCommandInterruptDisable = 1u << 10;
constexpr uint32_t kStatusCapabilities = 1u << 4;
constexpr uint32_t kMaximumCapabilities = 48;

// The offset of capability `id`, 0 when the function has none.
uint16_t find_capability(ConfigAccess& access, Address address, uint8_t id) {
    if ((access.read16(address, kCommand + 2) & kStatusCapabilities) == 0) return 0;
    uint16_t at = access.read8(address, kCapabilityPointer) & 0xFC;
    for (uint32_t visited = 0; at >= 0x40 && visited < kMaximumCapabilities; ++visited) {
        if (access.read8(address, at) == id) return at;
        at = access.read8(address, uint16_t(at + 1)) & 0xFC;
    }
    return 0;
}

// Rewrites the Message Control half of a capability's first dword (id and next are
// read-only, written back as read).
void set_control(ConfigAccess& access, Address address, uint16_t at, uint32_t set, uint32_t clear) {
    uint32_t dword = access.read32(address, at);
    uint32_t control = ((dword >> 16) | set) & ~clear;
    access.write32(address, at, (dword & 0xFFFFu) | (control & 0xFFFFu) << 16);
}

constexpr uint32_t kMsi64Bit = 1u << 7;
constexpr uint32_t kMsiMultipleEnable = 7u << 4;

}  // namespace

// PCI 3.0 §6.8.1: address at +4, then (64-bit capable) the upper address at +8 and the data
// at +12, else the data at +8; one vector (Multiple Message Enable 0), then enable.
Status program_msi(ConfigAccess& access, Address address, uint64_t message_address,
                   uint32_t message_data) {
    uint16_t msi = find_capability(access, address, kCapabilityMsi);
    if (msi == 0) return UMKA_KABI_ENODEV;
    uint16_t msix = find_capability(access, address, kCapabilityMsix);
    uint32_t control = access.read32(address, msi) >> 16;
    bool wide = (control & kMsi64Bit) != 0;
    if (!wide && (message_address >> 32) != 0) return UMKA_KABI_ENODEV;
    if (msix != 0) set_control(access, address, msix, 0, kMsixEnable);
    set_control(access, address, msi, 0, kMsiEnable | kMsiMultipleEnable);
    access.write32(address, uint16_t(msi + 4), uint32_t(message_address));
    if (wide) {
        access.write32(address, uint16_t(msi + 8), uint32_t(message_address >> 32));
        access.write32(address, uint16_t(msi + 12), message_data & 0xFFFFu);
    } else {
        access.write32(address, uint16_t(msi + 8), message_data & 0xFFFFu);
    }
    set_control(access, address, msi, kMsiEnable, kMsiMultipleEnable);
    uint32_t command = access.read16(address, kCommand) | kCommandInterruptDisable;
    access.write32(address, kCommand, command);
    return Status::ok();
}

Status set_interrupt_mode(ConfigAccess& access, Address address, kabi::bus_access::IrqKind kind) {
    uint16_t msix = find_capability(access, address, kCapabilityMsix);
    uint16_t msi = find_capability(access, address, kCapabilityMsi);
    uint32_t command = access.read16(address, kCommand);
    switch (kind) {
    case kabi::bus_access::IrqKind::MsiX:
        if (msix == 0) return UMKA_KABI_ENODEV;
        if (msi != 0) set_control(access, address, msi, 0, kMsiEnable);
        set_control(access, address, msix, kMsixEnable, kMsixFunctionMask);
        command |= kCommandInterruptDisable;
        break;
    case kabi::bus_access::IrqKind::Legacy:
        if (msix != 0) set_control(access, address, msix, 0, kMsixEnable);
        if (msi != 0) set_control(access, address, msi, 0, kMsiEnable);
        command &= ~kCommandInterruptDisable;
        break;
    default:
        return UMKA_KABI_ENODEV;
    }
    // The status half is written as zeros: its bits are write-one-to-clear.
    access.write32(address, kCommand, command);
    return Status::ok();
}

}  // namespace umka::pci
