// Configuration mechanism #1 (PCI 3.0 §3.2.2.3.2): a dword to CONFIG_ADDRESS (port 0xCF8)
// selects bus, device, function and register; CONFIG_DATA (0xCFC) then reads or writes it.
// Reached through bus_access.PortIo over the window the boot manifest grants the bus
// driver (`ports=0xcf8+8`: offset 0 is CONFIG_ADDRESS, offset 4 CONFIG_DATA), so the same
// code runs against the host's config-space model. The pair of accesses is one critical
// section: `lock` (in the module's state, shared by every caller) is held across it.
#pragma once

#include <stdint.h>

#include "pci_config.h"
#include "umka/kabi/bus_access.hpp"

namespace umka::pci {

class LegacyConfigAccess final : public ConfigAccess {
public:
    LegacyConfigAccess(const kabi::bus_access::PortIoRef& port_io,
                       kabi::bus_access::PortRange range, uint32_t& lock)
        : port_io_(port_io), range_(range), lock_(lock) {}

    // A refused port access reads as all ones (an absent function) and is remembered here:
    // the first refusal's errno, 0 while none.
    int32_t first_error() const { return first_error_; }

    uint32_t read32(Address address, uint16_t offset) override;
    void write32(Address address, uint16_t offset, uint32_t value) override;

private:
    // Selects the register; false when the address cannot be reached (a segment other
    // than 0, or a refused port write).
    bool select(Address address, uint16_t offset);
    void acquire();
    void release();
    void note(kabi::Status status);

    kabi::bus_access::PortIoRef port_io_;
    kabi::bus_access::PortRange range_;
    uint32_t& lock_;
    int32_t first_error_ = 0;
};

}  // namespace umka::pci
