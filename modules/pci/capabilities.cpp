// The capability list (PCI 3.0 §6.7): MSI, MSI-X and, on virtio devices, the vendor
// capabilities that locate the modern interface's structures (virtio 1.x §4.1.4).
#include "function_probe.h"

namespace umka::pci {
namespace {

constexpr uint16_t kVirtioVendor = 0x1AF4;
constexpr uint16_t kVirtioFirstDevice = 0x1000;
constexpr uint16_t kVirtioLastDevice = 0x107F;
constexpr uint8_t kVirtioCapabilityLength = 16;  // struct virtio_pci_cap
constexpr uint8_t kFirstCapabilityOffset = 0x40;
constexpr uint32_t kConventionalConfigBytes = 256;
constexpr uint32_t kMsixCapabilityLength = 12;

bool fits_in_bar(const Function& function, uint8_t bar, uint64_t offset, uint64_t length) {
    if (bar >= kMaximumBars) return false;
    const Bar& region = function.bars[bar];
    if (region.kind != BarKind::Memory32 && region.kind != BarKind::Memory64) return false;
    return offset <= region.length && length <= region.length - offset;
}

void read_msi(ConfigAccess& access, Function& function, uint8_t offset) {
    uint16_t control = access.read16(function.address, uint16_t(offset + 2));
    // Multiple Message Capable: log2 of the vectors, 0..5; 6 and 7 are reserved (read as 32).
    uint32_t log2_vectors = (control >> 1) & 7u;
    if (log2_vectors > 5) log2_vectors = 5;
    function.msi = Msi{offset, uint8_t(1u << log2_vectors), (control & (1u << 7)) != 0,
                       (control & (1u << 8)) != 0};
}

void read_msix(ConfigAccess& access, Function& function, uint8_t offset) {
    const Address address = function.address;
    // The 12 bytes of the structure must lie in the conventional space: past 0xFF the
    // legacy mechanism wraps and ECAM reads extended registers that are not this list's.
    if (uint32_t(offset) + kMsixCapabilityLength > kConventionalConfigBytes) {
        note_problem(function, Problem::CapabilityPastConfigEnd, offset);
        return;
    }
    uint16_t control = access.read16(address, uint16_t(offset + 2));
    uint32_t table = access.read32(address, uint16_t(offset + 4));
    uint32_t pending = access.read32(address, uint16_t(offset + 8));
    Msix msix{offset,
              uint16_t((control & 0x7FFu) + 1),
              uint8_t(table & 7u),
              table & ~7u,
              uint8_t(pending & 7u),
              pending & ~7u};
    function.msix = msix;
    constexpr uint64_t kEntryBytes = 16;
    uint64_t pending_bytes = ((uint64_t(msix.table_size) + 63) / 64) * 8;
    if (!fits_in_bar(function, msix.table_bar, msix.table_offset, msix.table_size * kEntryBytes) ||
        !fits_in_bar(function, msix.pending_bar, msix.pending_offset, pending_bytes)) {
        note_problem(function, Problem::MsixTableOutsideBar, offset);
    }
}

void read_virtio(ConfigAccess& access, Function& function, uint8_t offset) {
    const Address address = function.address;
    uint8_t length = access.read8(address, uint16_t(offset + 2));
    uint8_t structure = access.read8(address, uint16_t(offset + 3));
    if (structure < uint8_t(VirtioStructure::Common) ||
        structure > uint8_t(VirtioStructure::PciConfigAccess)) {
        return;  // a type this driver does not know: the specification says to ignore it
    }
    if (length < kVirtioCapabilityLength ||
        uint32_t(offset) + kVirtioCapabilityLength > kConventionalConfigBytes) {
        note_problem(function, Problem::VirtioCapabilityTooShort, offset);
        return;
    }
    if (function.virtio_count == kMaximumVirtioCapabilities) {
        note_problem(function, Problem::TooManyVirtioCapabilities, offset);
        return;
    }
    VirtioCapability capability{offset,
                                VirtioStructure(structure),
                                access.read8(address, uint16_t(offset + 4)),
                                access.read32(address, uint16_t(offset + 8)),
                                access.read32(address, uint16_t(offset + 12)),
                                0};
    if (capability.structure == VirtioStructure::Notify &&
        uint32_t(offset) + 20 <= kConventionalConfigBytes && length >= 20) {
        capability.notify_multiplier = access.read32(address, uint16_t(offset + 16));
    }
    // The PCI-configuration-access window names a BAR only as a hint (its fields are
    // written by the driver); every other structure must lie inside its BAR.
    if (capability.structure != VirtioStructure::PciConfigAccess &&
        !fits_in_bar(function, capability.bar, capability.bar_offset, capability.length)) {
        note_problem(function, Problem::VirtioStructureOutsideBar, offset);
        return;
    }
    function.virtio[function.virtio_count++] = capability;
}

bool is_virtio(const Function& function) {
    return function.vendor_id == kVirtioVendor && function.device_id >= kVirtioFirstDevice &&
           function.device_id <= kVirtioLastDevice;
}

}  // namespace

void read_capabilities(ConfigAccess& access, Function& function) {
    const Address address = function.address;
    if ((access.read16(address, kCommand + 2) & kStatusCapabilities) == 0) return;
    uint8_t offset = access.read8(address, kCapabilityPointer) & ~3u;
    for (uint32_t count = 0; offset != 0; ++count) {
        if (count == kMaximumCapabilities) {
            note_problem(function, Problem::CapabilityLoop, offset);
            return;
        }
        if (offset < kFirstCapabilityOffset) {
            note_problem(function, Problem::CapabilityPointerInHeader, offset);
            return;
        }
        uint8_t id = access.read8(address, offset);
        uint8_t next = access.read8(address, uint16_t(offset + 1)) & ~3u;
        if (id == kCapabilityMsi && function.msi.offset == 0) {
            read_msi(access, function, offset);
        } else if (id == kCapabilityMsix && function.msix.offset == 0) {
            read_msix(access, function, offset);
        } else if (id == kCapabilityVendor && is_virtio(function)) {
            read_virtio(access, function, offset);
        }
        offset = next;
    }
}

}  // namespace umka::pci
