// PCI configuration space as the enumeration sees it: 32-bit reads and writes at a
// function's address, through ECAM or the legacy 0xCF8 ports (whichever the nucleus
// grants; this code never names either). Register offsets are the PCI Local Bus
// Specification 3.0 ones, §6.1, and the capability IDs its Appendix H.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace umka::pci {

struct Address {
    uint16_t segment = 0;
    uint8_t bus = 0;
    uint8_t device = 0;    // 0..31
    uint8_t function = 0;  // 0..7
};

inline constexpr uint8_t kDevicesPerBus = 32;
inline constexpr uint8_t kFunctionsPerDevice = 8;

// Offsets into the 256-byte header space.
inline constexpr uint16_t kVendorId = 0x00;
inline constexpr uint16_t kCommand = 0x04;   // low half of the dword; status is the high half
inline constexpr uint16_t kRevision = 0x08;  // then prog-if, subclass, class
inline constexpr uint16_t kHeaderType = 0x0E;
inline constexpr uint16_t kFirstBar = 0x10;
inline constexpr uint16_t kBridgeBuses = 0x18;  // primary, secondary, subordinate (type 1)
inline constexpr uint16_t kSubsystem = 0x2C;    // vendor, then id (type 0)
inline constexpr uint16_t kCapabilityPointer = 0x34;
inline constexpr uint16_t kInterrupt = 0x3C;  // line, then pin

inline constexpr uint16_t kCommandIo = 1u << 0;
inline constexpr uint16_t kCommandMemory = 1u << 1;
inline constexpr uint16_t kStatusCapabilities = 1u << 4;
inline constexpr uint8_t kHeaderMultiFunction = 0x80;
inline constexpr uint8_t kHeaderLayoutMask = 0x7F;
inline constexpr uint8_t kHeaderGeneral = 0;
inline constexpr uint8_t kHeaderBridge = 1;

inline constexpr uint8_t kCapabilityMsi = 0x05;
inline constexpr uint8_t kCapabilityVendor = 0x09;
inline constexpr uint8_t kCapabilityMsix = 0x11;

// The access the enumeration is given. Offsets are dword-aligned and below 256. An absent
// function reads as all ones (a master abort), as on real buses.
class ConfigAccess {
public:
    virtual uint32_t read32(Address address, uint16_t offset) = 0;
    virtual void write32(Address address, uint16_t offset, uint32_t value) = 0;

    uint16_t read16(Address address, uint16_t offset) {
        return uint16_t(read32(address, offset & ~3u) >> ((offset & 2u) * 8));
    }
    uint8_t read8(Address address, uint16_t offset) {
        return uint8_t(read32(address, offset & ~3u) >> ((offset & 3u) * 8));
    }

protected:
    ~ConfigAccess() = default;
};

}  // namespace umka::pci
