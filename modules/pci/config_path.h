// The configuration mechanism the bus driver uses, chosen once when it starts and kept in
// PciState (a swap keeps it, with the ECAM window the swap carries over): ECAM when the
// nucleus grants Mmio window 0 (the boot manifest's `ecam` on a machine with an MCFG,
// like q35), else the legacy ports (pc, or no grant).
#pragma once

#include "ecam_config.h"
#include "legacy_config.h"
#include "pci_bus_driver.h"

namespace umka::pci {

enum class Mechanism : uint32_t { LegacyPorts = 0, Ecam = 1 };

const char* mechanism_name(Mechanism mechanism);

// Tries ECAM, else settles on the ports; records the choice in the state.
void choose_mechanism(const UmkaModuleBinding* binding);

class ConfigPath {
public:
    explicit ConfigPath(const UmkaModuleBinding* binding);
    // false: the service the chosen mechanism needs is not bound.
    bool ready() const { return mechanism_ == Mechanism::Ecam ? mmio_bound_ : port_io_bound_; }
    ConfigAccess& access();
    // The first refused access's errno (0 while none).
    int32_t first_error() const;
    Mechanism mechanism() const { return mechanism_; }

private:
    // In this order: the accesses are built from the bound Refs.
    Mechanism mechanism_;
    bool port_io_bound_ = false;
    bool mmio_bound_ = false;
    kabi::bus_access::PortIoRef port_io_;
    kabi::bus_access::MmioRef mmio_;
    LegacyConfigAccess legacy_;
    EcamConfigAccess ecam_;
};

}  // namespace umka::pci
