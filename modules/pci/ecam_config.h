// PCI Express enhanced configuration access (ECAM, PCIe 3.0 §7.2.2): every function's 4 KiB
// of configuration space at window + (bus << 20 | device << 15 | function << 12), one
// memory access per register, no lock. The window is the nucleus's bus_access.Mmio
// window 0, granted to the bus driver by the boot manifest's `ecam` (the MCFG's segment 0,
// from bus 0). Falls back nowhere by itself: records.cpp picks ECAM or the legacy ports.
#pragma once

#include <stdint.h>

#include "pci_config.h"
#include "umka/kabi/bus_access.hpp"

namespace umka::pci {

class EcamConfigAccess final : public ConfigAccess {
public:
    EcamConfigAccess(const kabi::bus_access::MmioRef& mmio, kabi::bus_access::MmioWindow window,
                     uint64_t length)
        : mmio_(mmio), window_(window), length_(length) {}

    // The last bus the window covers (1 MiB each).
    uint8_t last_bus() const {
        uint64_t buses = length_ >> 20;
        return buses == 0 ? 0 : uint8_t(buses > 256 ? 255 : buses - 1);
    }
    int32_t first_error() const { return first_error_; }

    uint32_t read32(Address address, uint16_t offset) override;
    void write32(Address address, uint16_t offset, uint32_t value) override;

private:
    // The register's offset in the window; false when the address is outside it.
    bool locate(Address address, uint16_t offset, uint64_t* at) const;
    void note(kabi::Status status);

    kabi::bus_access::MmioRef mmio_;
    kabi::bus_access::MmioWindow window_;
    uint64_t length_;
    int32_t first_error_ = 0;
};

}  // namespace umka::pci
