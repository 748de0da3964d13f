// Where a modern virtio PCI device puts its structures (virtio 1.2 §4.1.4): the vendor
// capabilities (struct virtio_pci_cap) in the first 256 bytes of configuration space name,
// for the common, notify, ISR and device configuration, a BAR, an offset and a length; the
// notify capability adds the doorbell multiplier. Read from a copy of configuration space
// (device_registry.DeviceDescription.config), which the device wrote: every pointer is
// bounded, the walk is bounded, and a structure that does not fit its BAR is refused.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace umka::virtio {

enum class CapabilityProblem : uint8_t {
    None,
    NoCapabilityList,   // status bit 4 clear
    ListTooLong,        // more than 48 capabilities: a loop
    PointerOutside,     // a capability starts past byte 252 or inside the header
    CapabilityTooShort,  // cap_len smaller than struct virtio_pci_cap
    BadBar,             // bar > 5, or the BAR is not memory
    OutsideBar,         // offset + length past the BAR's length (or wraps)
    Missing,            // no common, notify, ISR or device structure
};

inline const char* capability_problem_name(CapabilityProblem problem) {
    switch (problem) {
    case CapabilityProblem::None:
        return "none";
    case CapabilityProblem::NoCapabilityList:
        return "no capability list";
    case CapabilityProblem::ListTooLong:
        return "capability list loops";
    case CapabilityProblem::PointerOutside:
        return "capability pointer outside configuration space";
    case CapabilityProblem::CapabilityTooShort:
        return "virtio capability shorter than 16 bytes";
    case CapabilityProblem::BadBar:
        return "virtio structure in a BAR that is not memory";
    case CapabilityProblem::OutsideBar:
        return "virtio structure past the end of its BAR";
    case CapabilityProblem::Missing:
        return "a virtio structure (common, notify, ISR or device) is missing";
    }
    return "?";
}

// One structure: BAR index, offset in it, length.
struct StructureLocation {
    uint8_t bar = 0;
    uint32_t offset = 0;
    uint32_t length = 0;
    bool found = false;
};

struct StructureLocations {
    StructureLocation common;
    StructureLocation notify;
    StructureLocation isr;
    StructureLocation device;
    uint32_t notify_multiplier = 0;
};

inline constexpr uint32_t kConfigBytes = 256;
inline constexpr uint32_t kMaximumCapabilities = 48;

// `bar_lengths[i]`: the length of memory BAR i, 0 when BAR i is absent or I/O.
inline CapabilityProblem find_structures(const uint8_t (&config)[kConfigBytes],
                                         const uint64_t (&bar_lengths)[6],
                                         StructureLocations* out) {
    constexpr uint8_t kVendorCapability = 0x09;
    constexpr uint32_t kStatus = 0x06, kCapabilitiesPointer = 0x34, kHeaderBytes = 0x40;
    constexpr uint32_t kCapabilityBytes = 16, kNotifyCapabilityBytes = 20;
    auto read32 = [&](uint32_t offset) {
        return uint32_t(config[offset]) | uint32_t(config[offset + 1]) << 8 |
               uint32_t(config[offset + 2]) << 16 | uint32_t(config[offset + 3]) << 24;
    };
    StructureLocations locations;
    if ((config[kStatus] & 0x10) == 0) return CapabilityProblem::NoCapabilityList;
    uint32_t at = config[kCapabilitiesPointer] & 0xFCu;
    for (uint32_t visited = 0; at != 0; ++visited) {
        if (visited == kMaximumCapabilities) return CapabilityProblem::ListTooLong;
        if (at < kHeaderBytes || at + 2 > kConfigBytes) return CapabilityProblem::PointerOutside;
        uint32_t next = config[at + 1] & 0xFCu;
        if (config[at] == kVendorCapability) {
            if (at + kCapabilityBytes > kConfigBytes || config[at + 2] < kCapabilityBytes) {
                return CapabilityProblem::CapabilityTooShort;
            }
            uint8_t type = config[at + 3];
            StructureLocation* slot = type == 1   ? &locations.common
                                      : type == 2 ? &locations.notify
                                      : type == 3 ? &locations.isr
                                      : type == 4 ? &locations.device
                                                  : nullptr;
            // §4.1.4: the driver uses the first capability of each type it understands.
            if (slot != nullptr && !slot->found) {
                StructureLocation location{config[at + 4], read32(at + 8), read32(at + 12), true};
                if (location.bar > 5 || bar_lengths[location.bar] == 0) {
                    return CapabilityProblem::BadBar;
                }
                if (uint64_t(location.offset) + location.length > bar_lengths[location.bar]) {
                    return CapabilityProblem::OutsideBar;
                }
                if (type == 2) {
                    if (at + kNotifyCapabilityBytes > kConfigBytes ||
                        config[at + 2] < kNotifyCapabilityBytes) {
                        return CapabilityProblem::CapabilityTooShort;
                    }
                    locations.notify_multiplier = read32(at + 16);
                }
                *slot = location;
            }
        }
        at = next;
    }
    if (!locations.common.found || !locations.notify.found || !locations.isr.found ||
        !locations.device.found) {
        return CapabilityProblem::Missing;
    }
    *out = locations;
    return CapabilityProblem::None;
}

}  // namespace umka::virtio
